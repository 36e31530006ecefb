// This file keys the link of a Microsoft account. A key says what it is:
// "oid:" + the object ID for an account of the tenant's own Entra
// directory (the token's tid is the tenant's directory_id), "sub:" + the
// subject for any other, so that a subject of one kind can never reach a
// link of the other — one account's object ID may be another's subject.
//
// Links made before keys said what they are carry the bare object ID, or
// the subject of a token without one. Each is rewritten to its key at its
// account's next sign-in (Store.RekeyIdentity, so the user is never
// without its link): when no link has the account's key, the old link
// whose subject is the key's value is used — for a sub: key only if the
// token has no oid, as the old rule would have keyed it. No other old
// link ever matches.

package pbxauth

import (
	"context"
	"errors"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// The kinds of link key.
const (
	keyOID = "oid:"
	keySub = "sub:"
)

// linkKeys returns the link key of an account and the subject an older
// link of it may have ("" for none). fromDirectory says the token comes
// from the tenant's directory, which then gave its oid.
func linkKeys(fromDirectory bool, oid, sub string) (key, oldKey string) {
	if fromDirectory {
		key, oldKey = keyOID+oid, oid
	} else {
		key = keySub + sub
		if oid == "" {
			oldKey = sub
		}
	}
	// A value shaped like a key is never looked up as an old link: it may
	// be another account's new one.
	if strings.HasPrefix(oldKey, keyOID) || strings.HasPrefix(oldKey, keySub) {
		oldKey = ""
	}
	return key, oldKey
}

// linkedUserID returns the ID of the user the account is linked to in
// tenant t, rewriting its older link when that is what it has;
// ErrNotFound when it has no link.
func (a *Auth) linkedUserID(ctx context.Context, t store.Tenant, acct msAccount) (string, error) {
	id, err := a.store().IdentityUser(ctx, t.ID, acct.issuer, acct.key)
	if !errors.Is(err, ErrNotFound) || acct.oldKey == "" {
		return id, err
	}
	id, err = a.store().IdentityUser(ctx, t.ID, acct.issuer, acct.oldKey)
	if err != nil {
		return "", err
	}
	err = a.store().RekeyIdentity(ctx, store.Identity{TenantID: t.ID, Issuer: acct.issuer, Subject: acct.key, UserID: id}, acct.oldKey)
	switch {
	case err == nil:
		a.log.InfoContext(ctx, "pbxauth: Microsoft link rewritten to its new key", "tenant", t.ID, "user", id)
		return id, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		// Another sign-in of the account rewrote the link first: the key
		// decides now.
		return a.store().IdentityUser(ctx, t.ID, acct.issuer, acct.key)
	}
	return "", err
}
