// This file decides which tenant user a verified Microsoft account becomes:
// the user it was linked to at its first sign-in in that tenant, else the
// one user whose email the identity provider says is verified for the
// account. A user already linked is never matched again, so a second
// account that claims their email cannot take the user over; and the link
// outlives a later change of mailbox at Microsoft. What a link is keyed by
// is mslink.go's.

package pbxauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

// msAccount is what the identity provider vouches for about an account,
// from the ID token and, when that carries no email, from UserInfo.
type msAccount struct {
	issuer string
	// key is the account's link key, oldKey the subject an older link of
	// the account may have ("" for none); see mslink.go.
	key, oldKey string
	email       string
	// emailVerified: the document that carried the email says it is
	// verified (email_verified, or Entra's xms_edov in an ID token of the
	// tenant's directory).
	emailVerified bool
	upn           string // preferred_username
	member        bool   // acct is 0: a member of the directory, not a guest
	// entra: the verified ID token was issued by the tenant's own
	// directory (its tid is the directory_id), which then gave oid. Only
	// such an account matches a binding or a rule's selection.
	entra bool
	oid   string
}

// msClaims are the ID token claims the mapping reads. The flags are kept
// raw so that only a JSON true (or 0) counts: "true", 1 or "0" do not.
type msClaims struct {
	OID               string          `json:"oid"`
	TID               string          `json:"tid"` // Entra: the directory that issued the token
	AZP               string          `json:"azp"` // the application the token was issued to
	Email             string          `json:"email"`
	EmailVerified     json.RawMessage `json:"email_verified"`
	EdOV              json.RawMessage `json:"xms_edov"` // Entra: the email's domain owner is verified
	PreferredUsername string          `json:"preferred_username"`
	Acct              json.RawMessage `json:"acct"` // Entra: 0 member, 1 guest
}

// userInfoClaims are the UserInfo claims the mapping reads.
type userInfoClaims struct {
	Subject       string          `json:"sub"`
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
}

var jsonTrue, jsonZero = []byte("true"), []byte("0")

// fromDirectory reports whether the token was issued by the tenant's own
// Entra directory: only such a token speaks for Entra (oid, xms_edov).
func (c msClaims) fromDirectory(directoryID string) bool {
	return directoryID != "" && c.TID == directoryID
}

// account returns the account the ID token claims describe; directoryID
// is the tenant's. A token of the directory must carry oid, which keys
// its link.
func (c msClaims) account(issuer, sub, directoryID string) (msAccount, *msFailure) {
	entra := c.fromDirectory(directoryID)
	if entra && c.OID == "" {
		return msAccount{}, denied("ID token of the tenant's directory has no oid")
	}
	edov := entra && bytes.Equal(c.EdOV, jsonTrue)
	acct := msAccount{issuer: issuer, email: c.Email, upn: c.PreferredUsername,
		emailVerified: c.Email != "" && (bytes.Equal(c.EmailVerified, jsonTrue) || edov),
		member:        bytes.Equal(c.Acct, jsonZero), entra: entra, oid: c.OID}
	acct.key, acct.oldKey = linkKeys(entra, c.OID, sub)
	return acct, nil
}

// name is how the account is named in events.
func (m msAccount) name() string {
	if m.email != "" {
		return m.email
	}
	return m.upn
}

// mapMicrosoftAccount returns the user of tenant t that the account signs in as.
// In order: the user the account is linked to; else the user an
// administrator bound it to (msbound.go); else the one user whose email
// matches. The tenant's Microsoft sign-in rules then decide, and only an
// admitted account is linked.
func (a *Auth) mapMicrosoftAccount(ctx context.Context, t store.Tenant, acct msAccount) (store.User, *msFailure) {
	u, fail := a.linkedUser(ctx, t, acct)
	fresh, byEmail := fail == nil && u.ID == "", false
	if fresh {
		u, fail = a.boundUser(ctx, t, acct)
		if byEmail = fail == nil && u.ID == ""; byEmail {
			u, fail = a.matchUser(ctx, t, acct)
		}
	}
	switch {
	case fail != nil:
	case u.TenantID != t.ID: // links are per tenant; a store that mixes them is refused
		fail = denied("account is linked to a user of another tenant")
	case u.Disabled:
		fail = denied("user is disabled")
	default:
		fail = a.checkMicrosoftRules(ctx, t, acct, u)
	}
	if fail == nil && fresh {
		fail = a.link(ctx, t, acct, u, byEmail)
	}
	if fail != nil {
		if fail.user.ID == "" && u.TenantID == t.ID {
			fail.user = u // for the event; another tenant's user is not named
		}
		fail.account = acct.name()
		return store.User{}, fail
	}
	return u, nil
}

// linkedUser returns the user the account is linked to in tenant t, or a
// zero User when it has no link there yet.
func (a *Auth) linkedUser(ctx context.Context, t store.Tenant, acct msAccount) (store.User, *msFailure) {
	id, err := a.linkedUserID(ctx, t, acct)
	if errors.Is(err, ErrNotFound) {
		return store.User{}, nil
	}
	if err != nil {
		return store.User{}, serverError(store.User{}, "read identity link", err)
	}
	u, err := a.store().User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// The account stays refused rather than silently re-mapped by
		// email to whoever holds the address now.
		return store.User{}, denied("account is linked to a deleted user")
	}
	if err != nil {
		return store.User{}, serverError(store.User{}, "read linked user", err)
	}
	return u, nil
}

// matchUser finds the one user of tenant t that an account with no link
// yet may become: by an email the provider says is verified, and by
// preferred_username only where the tenant opted in and the account is a
// member of the directory. Unverified addresses never match: anyone can
// put any address on an account of their own (the "nOAuth" class). A user
// an administrator bound to a Microsoft account is never matched: only
// that account signs in as them.
func (a *Auth) matchUser(ctx context.Context, t store.Tenant, acct msAccount) (store.User, *msFailure) {
	var addrs []string
	if acct.emailVerified {
		addrs = append(addrs, acct.email)
	}
	if t.MS365.MatchPreferredUsername && acct.member && acct.upn != "" && !slices.ContainsFunc(addrs, func(s string) bool { return asciifold.Equal(s, acct.upn) }) {
		addrs = append(addrs, acct.upn)
	}
	if len(addrs) == 0 {
		if acct.email != "" {
			return store.User{}, denied("the account's email is not verified")
		}
		return store.User{}, denied("the account has no verified email")
	}
	var found []store.User
	for _, addr := range addrs {
		users, err := a.store().UsersByEmail(ctx, t.ID, addr)
		if err != nil {
			return store.User{}, serverError(store.User{}, "find users by email", err)
		}
		for _, u := range users {
			if !slices.ContainsFunc(found, func(f store.User) bool { return f.ID == u.ID }) {
				found = append(found, u)
			}
		}
	}
	found, fail := a.withoutBinding(ctx, t, found)
	if fail != nil {
		return store.User{}, fail
	}
	switch len(found) {
	case 0:
		return store.User{}, denied("no tenant user without a Microsoft binding has the account's email")
	case 1:
		return found[0], nil
	}
	return store.User{}, denied("%d tenant users have the account's email", len(found))
}

// link remembers that the account is u in tenant t. The Store refuses a
// second link of the account and a second link of the user; which of the
// two refused it decides the answer. A link made by matching an email
// (byEmail) is refused too when u was bound to an account meanwhile
// (msbound.go).
func (a *Auth) link(ctx context.Context, t store.Tenant, acct msAccount, u store.User, byEmail bool) *msFailure {
	link := store.Identity{TenantID: t.ID, Issuer: acct.issuer, Subject: acct.key, UserID: u.ID}
	var err error
	if bs := a.bindingStore(); byEmail && bs != nil {
		err = bs.LinkUnbound(ctx, link)
	} else {
		err = a.store().LinkIdentity(ctx, link)
	}
	if errors.Is(err, store.ErrStale) {
		f := denied("the user was bound to a Microsoft account meanwhile")
		f.user = u
		return f
	}
	if !errors.Is(err, ErrConflict) {
		if err != nil {
			return serverError(u, "link identity", err)
		}
		return nil
	}
	holder, err := a.store().IdentityUser(ctx, t.ID, acct.issuer, acct.key)
	switch {
	case err == nil && holder == u.ID:
		return nil // a concurrent first sign-in of the same account linked it
	case err == nil:
		return denied("account was linked to another user meanwhile")
	case errors.Is(err, store.ErrNotFound):
		f := denied("the user is linked to another Microsoft account")
		f.user = u
		return f
	}
	return serverError(u, "read identity link", err)
}
