// This file pages through the directory for "Operating it from Go": a
// tenant's users (and, through the same paging, the tenants), from a Store
// that implements store.DirectoryLister.

package pbxauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// Page sizes of Users and Tenants.
const (
	defaultPage = 100
	maxPage     = 1000
)

// lister is the Store's DirectoryLister, or errors.ErrUnsupported.
func (a *Auth) lister() (store.DirectoryLister, error) {
	l, ok := a.cfg.Store.(store.DirectoryLister) // not a.store(): its timing wrapper has no optional capability
	if !ok {
		return nil, fmt.Errorf("pbxauth: %T cannot list tenants and users (store.DirectoryLister): %w", a.cfg.Store, errors.ErrUnsupported)
	}
	return l, nil
}

// pageOf reads a page of at most limit records with list, asking for one
// more to learn whether another page follows; view turns a record into
// what the host sees and its key, the cursor of the page after.
func pageOf[T any](limit int, list func(n int) ([]T, error), view func(T) (T, string)) ([]T, string, error) {
	if limit == 0 {
		limit = defaultPage
	}
	if limit < 0 || limit > maxPage {
		return nil, "", invalidf("limit must be 0-%d", maxPage)
	}
	recs, err := list(limit + 1)
	if err != nil {
		return nil, "", err
	}
	more := len(recs) > limit
	recs = recs[:min(len(recs), limit)]
	next := ""
	for i, r := range recs {
		recs[i], next = view(r)
	}
	if !more {
		next = ""
	}
	return recs, next, nil
}

// Users returns a page of the users of the tenant of domain ("" for the
// system users), without their password hashes, ordered by username
// (folded to lower case ASCII and compared byte by byte): at most limit of
// them (0 means 100; at most 1000) whose username sorts after after (""
// for the first page), and next, the after of the following page, or ""
// when this page is the last:
//
//	for after := ""; ; {
//		users, next, err := a.Users(ctx, "acme.example.com", after, 0)
//		...
//		if next == "" {
//			break
//		}
//		after = next
//	}
//
// Each page is read as the Store holds the users then: one created or
// renamed between pages shows up where its new name sorts, so a rename may
// list a user twice or not at all. ErrNotFound for an unknown domain,
// ErrInvalid for a malformed one or a limit out of range; it needs a Store
// that implements store.DirectoryLister (errors.ErrUnsupported otherwise).
func (a *Auth) Users(ctx context.Context, domain, after string, limit int) (page []store.User, next string, err error) {
	l, err := a.lister()
	if err != nil {
		return nil, "", err
	}
	tenantID := ""
	if domain != "" {
		t, err := a.findTenant(ctx, domain)
		if err != nil {
			return nil, "", err
		}
		tenantID = t.ID
	}
	return pageOf(limit, func(n int) ([]store.User, error) { return l.Users(ctx, tenantID, after, n) },
		func(u store.User) (store.User, string) {
			u.PasswordHash = ""
			return u, u.Username
		})
}
