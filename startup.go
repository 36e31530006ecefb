// This file tells at start, in one WARN line each, which features are off
// or unsafe in this configuration, so that an operator learns it from the
// log rather than from a user's 404 or 503.

package pbxauth

// warnFeatures logs the features that are off or unsafe. (Microsoft sign-in
// without EncryptionKeys is warned of by initStates.)
func (a *Auth) warnFeatures() {
	switch {
	case a.appStore() == nil:
		a.log.Warn("pbxauth: authenticator apps are off: the Store keeps no authenticator secrets, so POST /auth/totp answers 404")
	case a.apps == nil:
		a.log.Warn("pbxauth: authenticator apps are off: without Config.EncryptionKeys POST /auth/totp answers 404, and a user who has an app cannot sign in (503) until the key is back")
	}
	switch a.cfg.Mailer.(type) {
	case nil:
		a.log.Warn("pbxauth: no Config.Mailer: emailed second-factor codes are off (POST /auth/send_otp answers 503) and no password reset mail is sent")
	case LogMailer, *LogMailer:
		a.log.Warn("pbxauth: mails are written to the log (LogMailer), codes and reset links included: for development only")
	}
	if a.cfg.InsecureCookies {
		a.log.Warn("pbxauth: Config.InsecureCookies: the session and device cookies are sent without Secure, also over plain HTTP: for development only")
	}
}
