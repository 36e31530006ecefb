// This file keeps bearer credentials out of the scs session store ("Tokens":
// no bearer credential at rest): the store is keyed by a hash of the
// session token, and the access token a session keeps is sealed under a key
// derived from the session token, which only the browser holds.

package pbxauth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/pbxauth/pbxauth/internal/secretbox"
)

// sessionSealInfo is the HKDF info of the key that seals a session's access
// token; a new layout of the sealed value takes a new version.
const sessionSealInfo = "pbxauth/session/v1"

// hashedStore keys an scs store by the SHA-256 of the session token: a copy
// of the store (a database dump, a backup) holds no key a browser could
// present as its cookie. It uses the store's context variants when the
// store has them, as scs does. It offers no scs.IterableStore: the keys it
// would list are no session tokens, and scs would load them as if they were.
type hashedStore struct{ inner scs.Store }

var _ scs.CtxStore = hashedStore{}

// sessionStoreKey is the key of a session token in the store: base64url of
// its SHA-256, as scs's HashTokenInStore computes it, so that the sessions
// of a manager that had that on keep their keys.
func sessionStoreKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Find implements scs.Store.
func (h hashedStore) Find(token string) ([]byte, bool, error) {
	return h.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (h hashedStore) Commit(token string, b []byte, expiry time.Time) error {
	return h.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (h hashedStore) Delete(token string) error {
	return h.DeleteCtx(context.Background(), token)
}

// FindCtx implements scs.CtxStore.
func (h hashedStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if c, ok := h.inner.(interface {
		FindCtx(context.Context, string) ([]byte, bool, error)
	}); ok {
		return c.FindCtx(ctx, sessionStoreKey(token))
	}
	return h.inner.Find(sessionStoreKey(token))
}

// CommitCtx implements scs.CtxStore.
func (h hashedStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if c, ok := h.inner.(interface {
		CommitCtx(context.Context, string, []byte, time.Time) error
	}); ok {
		return c.CommitCtx(ctx, sessionStoreKey(token), b, expiry)
	}
	return h.inner.Commit(sessionStoreKey(token), b, expiry)
}

// DeleteCtx implements scs.CtxStore.
func (h hashedStore) DeleteCtx(ctx context.Context, token string) error {
	if c, ok := h.inner.(interface {
		DeleteCtx(context.Context, string) error
	}); ok {
		return c.DeleteCtx(ctx, sessionStoreKey(token))
	}
	return h.inner.Delete(sessionStoreKey(token))
}

// hashStoreKeys makes sm key its store by hash: its Store is wrapped (once,
// however many Auths share sm), and scs's own HashTokenInStore is turned
// off, since the wrapper hashes the same way and twice would change the keys.
func hashStoreKeys(sm *scs.SessionManager) error {
	if sm.Store == nil {
		return errors.New("pbxauth: Config.SessionManager has no Store")
	}
	if _, ok := sm.Store.(hashedStore); !ok {
		sm.Store = hashedStore{sm.Store}
	}
	sm.HashTokenInStore = false
	return nil
}

// sessionBox returns the box of the session whose token is sessionToken.
func sessionBox(sessionToken string) (*secretbox.Keys, error) {
	if sessionToken == "" {
		return nil, errors.New("pbxauth: session has no token yet")
	}
	key, err := hkdf.Key(sha256.New, []byte(sessionToken), nil, sessionSealInfo, secretbox.KeySize)
	if err != nil {
		return nil, err
	}
	return secretbox.New([][]byte{key})
}

// sealAccess seals the access token of the sign-in familyID for the session
// whose token is sessionToken, as a string every scs Codec can carry.
func sealAccess(sessionToken, familyID, access string) (string, error) {
	box, err := sessionBox(sessionToken)
	if err != nil {
		return "", err
	}
	sealed, err := box.Seal([]byte(access), []byte(familyID))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openAccess opens what sealAccess sealed; ok is false when it does not
// open: sealed under another session token (renewed since), changed, bound
// to another sign-in, or a plain token an earlier version kept.
func openAccess(sessionToken, familyID, sealed string) (access string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", false
	}
	box, err := sessionBox(sessionToken)
	if err != nil {
		return "", false
	}
	plain, err := box.Open(b, []byte(familyID))
	if err != nil {
		return "", false
	}
	return string(plain), true
}
