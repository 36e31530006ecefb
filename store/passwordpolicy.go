// This file holds the optional Store capability of tenant password
// policies: PortSIP's password policy object, one per tenant.

package store

import "context"

// MaxPasswordLength is the longest password pbxauth accepts, in code points
// of the NFKC form, and so the largest MaxLength a policy may set.
const MaxPasswordLength = 256

// PasswordPolicy is a tenant's password policy, PortSIP's object
// (retrieveTenantPasswordPolicy): the lengths, in code points, and the
// rules every new password of the tenant's users must pass.
type PasswordPolicy struct {
	TenantID                    string
	MinLength                   int
	MaxLength                   int
	ContainsLetters             bool
	ContainsNumbers             bool
	ContainsSpecialLetters      bool
	DisableSequentialCharacters bool
	DisableRepeatingCharacters  bool
	DisableAccountInformation   bool
	// Version is the Store's count of the tenant's stored policies: 0
	// when none is stored. PutPasswordPolicy stores p only while the
	// stored version equals p.Version, and stores it as p.Version+1.
	Version int64
}

// Validate reports whether a Store may keep p: a tenant ID and
// 1 ≤ MinLength ≤ MaxLength ≤ [MaxPasswordLength]. (A host's own floor,
// Config.PasswordMinLength, is the host's to apply, not the Store's.)
func (p PasswordPolicy) Validate() error {
	switch {
	case p.TenantID == "":
		return invalidf("password policy without a tenant ID")
	case p.Version < 0:
		return invalidf("password policy of tenant %q: negative version", p.TenantID)
	case p.MinLength < 1 || p.MaxLength > MaxPasswordLength || p.MinLength > p.MaxLength:
		return invalidf("password policy of tenant %q: lengths must satisfy 1 <= min_length (%d) <= max_length (%d) <= %d",
			p.TenantID, p.MinLength, p.MaxLength, MaxPasswordLength)
	}
	return nil
}

// PasswordPolicyStore is implemented by stores that keep tenant password
// policies; every shipped store does. Without it, every tenant answers the
// default policy and updating one answers 404. All methods must be safe for
// concurrent use, also by several processes sharing one backend.
type PasswordPolicyStore interface {
	// PasswordPolicy returns the stored policy of the tenant, or
	// ErrNotFound when none was stored (the tenant then has the default).
	PasswordPolicy(ctx context.Context, tenantID string) (PasswordPolicy, error)
	// PutPasswordPolicy stores p as the policy of the tenant p.TenantID
	// with Version p.Version+1, replacing any earlier one whole — only
	// while the stored policy's Version equals p.Version (0: none is
	// stored), compared and written in one atomic step, also across
	// processes: ErrConflict otherwise, with nothing stored, so that of
	// concurrent puts with one version exactly one succeeds (a merge
	// that read the policy cannot overwrite a change made since).
	// ErrInvalid, with nothing stored, for a policy its Validate refuses;
	// ErrNotFound, with nothing stored, when no tenant has that ID.
	PutPasswordPolicy(ctx context.Context, p PasswordPolicy) error
}
