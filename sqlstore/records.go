// This file maps records onto columns: the column lists, how a row scans
// into a record, how a record becomes statement arguments, and how times and
// hashes are stored. Every query that reads a record uses these, so a column
// is added in one place.

package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/internal/asciifold"
	"github.com/pbxauth/pbxauth/store"
)

// Column lists, in the order in which the *Dest functions scan them and the
// *Args functions write them.
const (
	systemCols = "web_domain, private_ipv4, public_ipv4, enable_ipv6, private_ipv6, public_ipv6, " +
		"primary_dns_server, secondary_dns_server, enable_two_factor"
	tenantCols = "id, name, domain, website, avatar_url, enable_two_factor, ms365, " +
		"ms365_application_id, ms365_directory_id, ms365_client_secret, ms365_national_cloud, ms365_issuer, " +
		"ms365_client_certificate, ms365_client_private_key, ms365_match_preferred_username, passkey_not_two_factor"
	userCols = "id, tenant_id, username, email, role, password_hash, " +
		"two_factor_enabled, password_force_reset, disabled, epoch"
	familyCols  = "id, user_id, password_verified, method, created_at, expires_at, revoked, last_used_at, client_ip, user_agent, epoch, passkey_id"
	tokenCols   = "hash, kind, family_id, expires_at, used_at, parent, grace_seed, grace_until"
	flowCols    = "hash, purpose, user_id, tenant_id, expires_at, code_hash, code_expires_at, sends, last_sent_at, attempts, data, version, epoch"
	counterCols = "key, count, locks, locked_until, window_start, expires_at, version"
	passkeyCols = "id, user_id, credential_id, public_key, algorithm, sign_count, backup_eligible, backup_state, " +
		"transports, aaguid, name, created_at, last_used_at, disabled, disabled_reason, disabled_at"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// Times are stored as unix microseconds (UTC) in a 64-bit integer: exact at
// the precision of both databases, ordered, and compared with the same
// operators in both. The zero time.Time is stored as its own unix
// microseconds (a large negative number), so it sorts before every other time
// and reads back as the zero time.

// micros returns how t is stored.
func micros(t time.Time) int64 { return t.UnixMicro() }

// zeroMicros is how the zero time.Time is stored: a refresh token's UsedAt
// while it is fresh, for example.
var zeroMicros = micros(time.Time{})

// timeDest scans a stored time into *t.
type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner.
func (d timeDest) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlstore: a time column holds %T, not an integer", src)
	}
	*d.t = time.UnixMicro(v).UTC()
	return nil
}

// hashDest scans a stored hash into *h.
type hashDest struct{ h *store.Hash }

// Scan implements sql.Scanner.
func (d hashDest) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok || len(b) != len(d.h) {
		return fmt.Errorf("sqlstore: a hash column holds %T of length %d, not %d bytes", src, len(b), len(d.h))
	}
	copy(d.h[:], b)
	return nil
}

// lower is the key under which usernames, domains and emails are unique or
// found: they match case-insensitively, with ASCII case folding only
// (internal/asciifold), the same in every store.
func lower(s string) string { return asciifold.Lower(s) }

// placeholders returns "$1, $2, ..., $n".
func placeholders(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i)
	}
	return b.String()
}

func systemDest(s *store.System) []any {
	return []any{&s.WebDomain, &s.PrivateIPv4, &s.PublicIPv4, &s.EnableIPv6, &s.PrivateIPv6, &s.PublicIPv6,
		&s.PrimaryDNSServer, &s.SecondaryDNSServer, &s.EnableTwoFactor}
}

func systemArgs(s store.System) []any {
	return []any{s.WebDomain, s.PrivateIPv4, s.PublicIPv4, s.EnableIPv6, s.PrivateIPv6, s.PublicIPv6,
		s.PrimaryDNSServer, s.SecondaryDNSServer, s.EnableTwoFactor}
}

// scanTenant scans tenantCols; MS365 is nil unless the ms365 column is set.
func scanTenant(r scanner) (store.Tenant, error) {
	var (
		t     store.Tenant
		m     store.MS365
		hasMS bool
	)
	err := r.Scan(&t.ID, &t.Name, &t.Domain, &t.Website, &t.AvatarURL, &t.EnableTwoFactor, &hasMS,
		&m.ApplicationID, &m.DirectoryID, &m.ClientSecret, &m.NationalCloud, &m.Issuer,
		&m.ClientCertificate, &m.ClientPrivateKey, &m.MatchPreferredUsername, &t.PasskeyNotTwoFactor)
	if err != nil {
		return store.Tenant{}, err
	}
	if hasMS {
		t.MS365 = &m
	}
	return t, nil
}

// tenantArgs returns the values of tenantCols and then of domain_key.
func tenantArgs(t store.Tenant) []any {
	var m store.MS365
	if t.MS365 != nil {
		m = *t.MS365
	}
	return []any{t.ID, t.Name, t.Domain, t.Website, t.AvatarURL, t.EnableTwoFactor, t.MS365 != nil,
		m.ApplicationID, m.DirectoryID, m.ClientSecret, m.NationalCloud, m.Issuer,
		m.ClientCertificate, m.ClientPrivateKey, m.MatchPreferredUsername, t.PasskeyNotTwoFactor, lower(t.Domain)}
}

func userDest(u *store.User) []any {
	return []any{&u.ID, &u.TenantID, &u.Username, &u.Email, &u.Role, &u.PasswordHash,
		&u.TwoFactorEnabled, &u.PasswordForceReset, &u.Disabled, &u.Epoch}
}

// userArgs returns the values of userCols and then of username_key and
// email_key.
func userArgs(u store.User) []any {
	return []any{u.ID, u.TenantID, u.Username, u.Email, u.Role, u.PasswordHash,
		u.TwoFactorEnabled, u.PasswordForceReset, u.Disabled, u.Epoch, lower(u.Username), lower(u.Email)}
}

func familyDest(f *store.Family) []any {
	return []any{&f.ID, &f.UserID, &f.PasswordVerified, &f.Method,
		timeDest{&f.CreatedAt}, timeDest{&f.ExpiresAt}, &f.Revoked, timeDest{&f.LastUsedAt}, &f.ClientIP, &f.UserAgent, &f.Epoch, optTextDest{&f.PasskeyID}}
}

func familyArgs(f store.Family) []any {
	return []any{f.ID, f.UserID, f.PasswordVerified, f.Method, micros(f.CreatedAt), micros(f.ExpiresAt), f.Revoked,
		micros(f.LastUsedAt), f.ClientIP, f.UserAgent, f.Epoch, optText(f.PasskeyID)}
}

func tokenDest(t *store.Token) []any {
	return []any{hashDest{&t.Hash}, &t.Kind, &t.FamilyID, timeDest{&t.ExpiresAt}, timeDest{&t.UsedAt},
		optHashDest{&t.Parent}, seedDest{&t.GraceSeed}, timeDest{&t.GraceUntil}}
}

func tokenArgs(t store.Token) []any {
	return []any{t.Hash[:], int64(t.Kind), t.FamilyID, micros(t.ExpiresAt), micros(t.UsedAt),
		optHash(t.Parent), optSeed(t.GraceSeed), micros(t.GraceUntil)}
}

// optHash is how an optional hash is stored: empty when zero.
func optHash(h store.Hash) []byte {
	if h == (store.Hash{}) {
		return []byte{}
	}
	return h[:]
}

// optHashDest scans what optHash stored.
type optHashDest struct{ h *store.Hash }

// Scan implements sql.Scanner.
func (d optHashDest) Scan(src any) error {
	if b, ok := src.([]byte); ok && len(b) == 0 {
		*d.h = store.Hash{}
		return nil
	}
	return hashDest(d).Scan(src)
}

// optSeed is how a grace seed is stored: empty when zero.
func optSeed(r store.GraceSeed) []byte {
	if r == (store.GraceSeed{}) {
		return []byte{}
	}
	return r[:]
}

// seedDest scans what optSeed stored.
type seedDest struct{ r *store.GraceSeed }

// Scan implements sql.Scanner.
func (d seedDest) Scan(src any) error {
	b, ok := src.([]byte)
	switch {
	case ok && len(b) == 0:
		*d.r = store.GraceSeed{}
	case ok && len(b) == len(d.r):
		copy(d.r[:], b)
	default:
		return fmt.Errorf("sqlstore: a seed column holds %T of length %d", src, len(b))
	}
	return nil
}
func flowDest(f *store.Flow) []any {
	return []any{hashDest{&f.Hash}, &f.Purpose, &f.UserID, &f.TenantID, timeDest{&f.ExpiresAt},
		&f.CodeHash, timeDest{&f.CodeExpiresAt}, &f.Sends, timeDest{&f.LastSentAt}, &f.Attempts, &f.Data, &f.Version, &f.Epoch}
}

func flowArgs(f store.Flow) []any {
	return []any{f.Hash[:], string(f.Purpose), f.UserID, f.TenantID, micros(f.ExpiresAt),
		f.CodeHash, micros(f.CodeExpiresAt), f.Sends, micros(f.LastSentAt), f.Attempts, f.Data, f.Version, f.Epoch}
}

func counterDest(c *store.Counter) []any {
	return []any{&c.Key, &c.Count, &c.Locks, timeDest{&c.LockedUntil}, timeDest{&c.WindowStart},
		timeDest{&c.ExpiresAt}, &c.Version}
}

func counterArgs(c store.Counter) []any {
	return []any{c.Key, c.Count, c.Locks, micros(c.LockedUntil), micros(c.WindowStart), micros(c.ExpiresAt), c.Version}
}

// optText is how an optional text is stored: NULL when empty.
func optText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// optTextDest scans what optText stored.
type optTextDest struct{ s *string }

// Scan implements sql.Scanner.
func (d optTextDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.s = ""
	case string:
		*d.s = v
	case []byte:
		*d.s = string(v)
	default:
		return fmt.Errorf("sqlstore: a text column holds %T", src)
	}
	return nil
}

// passkeyDest scans passkeyCols into p.
func passkeyDest(p *store.Passkey) []any {
	return []any{&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.Algorithm, signCountDest{&p.SignCount},
		&p.BackupEligible, &p.BackupState, transportsDest{&p.Transports}, &p.AAGUID, &p.Name,
		timeDest{&p.CreatedAt}, timeDest{&p.LastUsedAt}, &p.Disabled, &p.DisabledReason, timeDest{&p.DisabledAt}}
}

// passkeyArgs returns the values of passkeyCols. Byte fields are never
// NULL: an absent AAGUID is stored empty.
func passkeyArgs(p store.Passkey) []any {
	return []any{p.ID, p.UserID, p.CredentialID, p.PublicKey, int64(p.Algorithm), int64(p.SignCount),
		p.BackupEligible, p.BackupState, strings.Join(p.Transports, " "), nonNil(p.AAGUID), p.Name,
		micros(p.CreatedAt), micros(p.LastUsedAt), p.Disabled, p.DisabledReason, micros(p.DisabledAt)}
}

// nonNil returns b, or an empty slice for nil, which drivers store as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// signCountDest scans a stored sign count, an integer of 32 bits.
type signCountDest struct{ n *uint32 }

// Scan implements sql.Scanner.
func (d signCountDest) Scan(src any) error {
	v, ok := src.(int64)
	if !ok || v < 0 || v > 1<<32-1 {
		return fmt.Errorf("sqlstore: a sign count column holds %T %v", src, src)
	}
	*d.n = uint32(v)
	return nil
}

// transportsDest scans the stored transports, separated by spaces.
type transportsDest struct{ t *[]string }

// Scan implements sql.Scanner.
func (d transportsDest) Scan(src any) error {
	var s string
	if err := (optTextDest{&s}).Scan(src); err != nil {
		return err
	}
	*d.t = strings.Fields(s)
	return nil
}
