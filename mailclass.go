// This file classifies what an SMTP dialogue failed with, so that the mail
// worker drops what cannot succeed, retries what may, and shouts about what
// the operator must fix.

package pbxauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/wneessen/go-mail"
)

// classifySMTP wraps err from go-mail's DialAndSend in ErrMailRejected or
// ErrMailMisconfigured, or returns it as is (temporary).
func classifySMTP(err error) error {
	if err == nil {
		return nil
	}
	code := 0
	var te *textproto.Error
	if errors.As(err, &te) {
		code = te.Code
	}
	var se *mail.SendError
	inMail := errors.As(err, &se) && isMailStage(se.Reason)
	if inMail && se.ErrorCode() != 0 {
		code = se.ErrorCode()
	}
	switch {
	case code == 530 || code == 534 || code == 535:
		// Authentication refused or required, STARTTLS required: only
		// the configuration can fix it, whatever the stage.
		return fmt.Errorf("%w: %w", ErrMailMisconfigured, err)
	case code >= 500 && inMail:
		return fmt.Errorf("%w: %w", ErrMailRejected, err)
	case code >= 500:
		// Refused before any mail was named (EHLO, STARTTLS, AUTH).
		return fmt.Errorf("%w: %w", ErrMailMisconfigured, err)
	case code >= 400:
		return err
	case isTLSError(err):
		return fmt.Errorf("%w: %w", ErrMailMisconfigured, err)
	}
	return err
}

// isMailStage says whether a go-mail send failed at MAIL, RCPT or DATA.
func isMailStage(r mail.SendErrReason) bool {
	switch r {
	case mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose:
		return true
	}
	return false
}

// isTLSError says whether err is a failed TLS handshake or certificate
// check, or a server that does not offer the STARTTLS we require.
func isTLSError(err error) bool {
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		recordHdr tls.RecordHeaderError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &recordHdr) ||
		strings.Contains(err.Error(), "does not support STARTTLS")
}
