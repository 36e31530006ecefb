// This file decides a request's client: the peer, or behind a trusted proxy
// the client its forwarding header (Config.ForwardedHeader) names. It warns
// when a peer it does not trust sends forwarding headers (a proxy that
// Config.TrustedProxies misses, so every client would share the proxy's
// address and its limits), and when a trusted proxy names a client by
// something that is no address. The headers' syntax is internal/forwarded's.

package pbxauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth/internal/forwarded"
)

// The values of Config.ForwardedHeader.
const (
	headerXForwardedFor = "X-Forwarded-For"
	headerForwarded     = "Forwarded"
)

// checkForwarding checks and defaults Config.ForwardedHeader, and warns at
// start-up about TrustedProxies that trust every peer: then any client can
// choose its address, and with it its limits.
func checkForwarding(cfg *Config) error {
	switch {
	case cfg.ForwardedHeader == "", strings.EqualFold(cfg.ForwardedHeader, headerXForwardedFor):
		cfg.ForwardedHeader = headerXForwardedFor
	case strings.EqualFold(cfg.ForwardedHeader, headerForwarded):
		cfg.ForwardedHeader = headerForwarded
	default:
		return errors.New(`pbxauth: Config.ForwardedHeader must be "X-Forwarded-For" (the default) or "Forwarded" (RFC 7239), not ` + strconv.Quote(cfg.ForwardedHeader))
	}
	for _, p := range cfg.TrustedProxies {
		if p.Bits() == 0 {
			cfg.Logger.Warn("pbxauth: Config.TrustedProxies trusts every peer, so any client can set its own address with "+cfg.ForwardedHeader+" and escape the per-address limits; list only your proxies",
				"prefix", p.String())
		}
	}
	return nil
}

// client is who sent a request: an address, or, when a trusted proxy named
// it by an entry that is no address ("unknown", an obfuscated identifier),
// the key of that entry. Such a client is never given the proxy's address:
// that would put every one of them into one bucket.
type client struct {
	addr netip.Addr // the zero Addr when key is set
	key  string     // forwarded.Key of the entry
}

// String is the client as client_ip and events show it.
func (c client) String() string {
	if c.key != "" {
		return c.key
	}
	return c.addr.String()
}

// clientIP returns the client of r as text.
func (a *Auth) clientIP(r *http.Request) string {
	if rq := requestFrom(r.Context()); rq != nil {
		return rq.clientIP()
	}
	return a.client(r).String()
}

// client returns the client of r, as decided when its request began
// (requestid.go).
func (a *Auth) client(r *http.Request) client {
	if rq := requestFrom(r.Context()); rq != nil {
		return rq.client
	}
	return a.clientOf(r, peerAddr(r.RemoteAddr))
}

// clientOf returns the client of r, whose peer is peer: the peer, unless
// the peer is a trusted proxy, in which case the right-most entry of Config.ForwardedHeader that
// is not itself a trusted address (the peer when there is none).
// IPv4-mapped IPv6 addresses come back as IPv4, without zones.
func (a *Auth) clientOf(r *http.Request, peer netip.Addr) client {
	if !a.trusted(peer) {
		if headerValue(r.Header, headerXForwardedFor) != "" || headerValue(r.Header, headerForwarded) != "" {
			a.warnForwarded(r.Context(), peer)
		}
		return client{addr: peer}
	}
	var hops []forwarded.Hop
	if a.cfg.ForwardedHeader == headerForwarded {
		hops = forwarded.Forwarded(r.Header.Values(headerForwarded))
	} else {
		hops = forwarded.XForwardedFor(r.Header.Values(headerXForwardedFor))
	}
	hop, ok := forwarded.Client(hops, a.trusted)
	switch {
	case !ok:
		return client{addr: peer}
	case hop.Addr.IsValid():
		return client{addr: hop.Addr}
	}
	c := client{key: forwarded.Key(hop.Raw)}
	a.warnUnparsable(r.Context(), peer, hop.Raw, c.key)
	return c
}

// forwardedWarning holds the unix second of the last warning of each kind,
// so that each is logged at most once a minute.
type forwardedWarning struct{ untrusted, unparsable atomic.Int64 }

// due says whether a warning last logged at *last may be logged again now,
// and if so takes the turn.
func due(last *atomic.Int64, now time.Time) bool {
	t, prev := now.Unix(), last.Load()
	if t-prev < int64(time.Minute/time.Second) && prev != 0 {
		return false
	}
	return last.CompareAndSwap(prev, t)
}

// warnForwarded logs, at most once a minute, that forwarding headers came
// from a peer that is not a trusted proxy.
func (a *Auth) warnForwarded(ctx context.Context, peer netip.Addr) {
	if !due(&a.forwarded.untrusted, a.now()) {
		return
	}
	a.log.WarnContext(ctx, "pbxauth: X-Forwarded-For or Forwarded from a peer not in Config.TrustedProxies; it is ignored, and if the peer is your proxy every client shares its address and its limits",
		"peer", peer.String())
}

// maxLoggedEntry bounds how much of an unparsable entry is logged.
const maxLoggedEntry = 256

// warnUnparsable logs, at most once a minute, that a trusted proxy named a
// client by an entry that is no address. The entry is the client's to
// choose when the proxy passes it on, so it is logged escaped and cut.
func (a *Auth) warnUnparsable(ctx context.Context, peer netip.Addr, entry, key string) {
	if !due(&a.forwarded.unparsable, a.now()) {
		return
	}
	if len(entry) > maxLoggedEntry {
		entry = entry[:maxLoggedEntry]
	}
	a.log.WarnContext(ctx, "pbxauth: a trusted proxy's "+a.cfg.ForwardedHeader+" names the client by an entry that is no address; its limits are keyed by the entry",
		"peer", peer.String(), "entry", strconv.QuoteToASCII(entry), "key", key)
}

func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil { // the usual "IP:port", parsed once
		return ap.Addr().WithZone("").Unmap()
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return ip.WithZone("").Unmap()
}

// headerValue is h.Get(key) for a key already in canonical form: the map is
// indexed as it is, without canonicalizing key again on every request.
func headerValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (a *Auth) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
