// This file reads the row behind a Grant, the query of every authenticated
// request, as cheaply as database/sql allows: only the columns the query does
// not already fix, scanned into destinations that are built once and reused.

package sqlstore

import (
	"strings"
	"sync"

	"github.com/pbxauth/pbxauth/store"
)

// derivedGrantCols are the columns of a Grant's records that grantQuery need
// not read: the token's hash and kind are its arguments, and the family's and
// the user's IDs are the keys it joins on. Every column read costs the SQLite
// driver allocations (its name, its declared type, its value), so each one
// left out makes the check cheaper.
//
// The epochs, the sign-in's device and its passkey are left out too: the
// epochs matter only when a sign-in starts (CreateFamily), the device only
// to a password change (ChangePassword reads it itself), the passkey only
// to deleting the passkey — never to a token's check, so the bearer check
// reads no more than before they existed (Store.Grant documents that it
// need not fill them).
var derivedGrantCols = map[string]bool{"t.hash": true, "t.kind": true, "f.id": true, "u.id": true, "f.epoch": true, "u.epoch": true,
	"f.device_id": true, "f.passkey_id": true}

// grantColumns returns the columns grantQuery reads, qualified, and the
// destinations in g that they scan into, in the same order.
func grantColumns(g *store.Grant) (cols []string, dest []any) {
	for _, table := range []struct {
		alias, cols string
		dest        []any
	}{
		{"t", tokenCols, tokenDest(&g.Token)},
		{"f", familyCols, familyDest(&g.Family)},
		{"u", userCols, userDest(&g.User)},
	} {
		for i, c := range strings.Split(table.cols, ", ") {
			if c = table.alias + "." + c; !derivedGrantCols[c] {
				cols, dest = append(cols, c), append(dest, table.dest[i])
			}
		}
	}
	return cols, dest
}

// grantRow is a Grant and the destinations that scan a row of grantQuery
// into it.
type grantRow struct {
	g    store.Grant
	dest []any
}

// grantRows keeps grantRows for reuse: a check builds no destinations.
var grantRows = sync.Pool{New: func() any {
	r := &grantRow{}
	_, r.dest = grantColumns(&r.g)
	return r
}}

// scanGrant scans a row of grantQuery, the grant of the token with hash h and
// kind kind, and fills in what the query did not read.
func scanGrant(r scanner, h store.Hash, kind store.TokenKind) (store.Grant, error) {
	row := grantRows.Get().(*grantRow)
	defer grantRows.Put(row)
	if err := r.Scan(row.dest...); err != nil {
		return store.Grant{}, err
	}
	g := row.g
	g.Token.Hash, g.Token.Kind = h, kind
	g.Family.ID = g.Token.FamilyID
	g.User.ID = g.Family.UserID
	return g, nil
}
