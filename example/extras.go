// This file wires the optional parts of the server from its flags.

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/pbxauth/pbxauth"
)

// configureExtras sets the mailer and cookie options of cfg from o. Without
// -smtp, mails (with their codes and links) are written to the log, so a
// newcomer can finish every flow from the README.
func configureExtras(cfg *pbxauth.Config, o options, logger *slog.Logger) error {
	cfg.InsecureCookies = o.insecureCookies
	cfg.RefreshReuseGrace = o.refreshGrace
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
