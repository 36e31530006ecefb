// This file decides a request's client address, believing X-Forwarded-For
// only from configured proxies, and warns when a peer it does not trust
// sends forwarding headers (a proxy that Config.TrustedProxies misses, so
// every client would share the proxy's address and its limits).

package pbxauth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// clientIP returns the address of the client as text.
func (a *Auth) clientIP(r *http.Request) string { return a.clientAddr(r).String() }

// clientAddr returns the address of the client: the peer, unless the peer
// is a trusted proxy, in which case the rightmost untrusted X-Forwarded-For
// entry. IPv4-mapped IPv6 addresses come back as IPv4.
func (a *Auth) clientAddr(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !a.trusted(peer) {
		if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
			a.warnForwarded(peer)
		}
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = ip.Unmap()
		if !a.trusted(ip) {
			return ip
		}
	}
	return peer
}

// forwardedWarning is the unix second of the last warning about forwarding
// headers from an untrusted peer.
type forwardedWarning struct{ last atomic.Int64 }

// warnForwarded logs, at most once a minute, that forwarding headers came
// from a peer that is not a trusted proxy.
func (a *Auth) warnForwarded(peer netip.Addr) {
	now := a.now().Unix()
	last := a.forwarded.last.Load()
	if now-last < int64(time.Minute/time.Second) && last != 0 || !a.forwarded.last.CompareAndSwap(last, now) {
		return
	}
	a.log.Warn("pbxauth: X-Forwarded-For or Forwarded from a peer not in Config.TrustedProxies; it is ignored, and if the peer is your proxy every client shares its address and its limits",
		"peer", peer.String())
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return ip.Unmap()
}

func (a *Auth) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
