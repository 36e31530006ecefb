// This file wires the optional parts of the server from its flags.

package main

import (
	"log/slog"

	"github.com/pbxauth/pbxauth"
)

// configureExtras sets the mailer and cookie options of cfg from o. Without
// -smtp, mails (with their codes and links) are written to the log, so a
// newcomer can finish every flow from the README.
func configureExtras(cfg *pbxauth.Config, o options, logger *slog.Logger) error {
	cfg.InsecureCookies = o.insecureCookies
	if o.smtp == "" {
		cfg.Mailer = pbxauth.LogMailer{Logger: logger}
		return nil
	}
	m, err := pbxauth.ParseSMTP(o.smtp, o.mailFrom)
	if err != nil {
		return err
	}
	cfg.Mailer = m
	return nil
}
