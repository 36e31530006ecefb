// This file wires the optional parts of the server from its flags.

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/pbxauth/pbxauth"
)

// configureExtras sets the mailer, cookie, proxy and exchange options of
// cfg from o.
// Without -smtp, mails (with their codes and links) are written to the log,
// so a newcomer can finish every flow from the README.
func configureExtras(cfg *pbxauth.Config, o options, logger *slog.Logger) error {
	cfg.InsecureCookies = o.insecureCookies
	cfg.RefreshReuseGrace = o.refreshGrace
	cfg.RequireExchangeChallenge = o.requireChallenge
	proxies, err := parsePrefixes(o.trustedProxies)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	cfg.TrustedProxies = proxies
	if h := o.forwardedHeader; !strings.EqualFold(h, "X-Forwarded-For") && !strings.EqualFold(h, "Forwarded") {
		return fmt.Errorf("-forwarded-header %q: want X-Forwarded-For or Forwarded", h)
	}
	cfg.ForwardedHeader = o.forwardedHeader
	if o.smtp == "" {
		cfg.Mailer = pbxauth.LogMailer{Logger: logger}
		return nil
	}
	m, err := pbxauth.ParseSMTP(o.smtp, o.mailFrom)
	if err != nil {
		return err
	}
	if o.smtpCA != "" {
		pem, err := os.ReadFile(o.smtpCA)
		if err != nil {
			return fmt.Errorf("-smtp-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-smtp-ca %s: no PEM certificate in it", o.smtpCA)
		}
		m.TLSConfig = &tls.Config{RootCAs: roots}
	}
	cfg.Mailer = m
	return nil
}

// parsePrefixes reads comma-separated prefixes ("10.0.0.0/8, ::1"); a bare
// address is a prefix of its full length.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			ps = append(ps, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p.Masked())
	}
	return ps, nil
}
