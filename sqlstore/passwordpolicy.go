// This file keeps tenant password policies (store.PasswordPolicyStore).
// A first policy is stored only for a tenant that exists and has none,
// decided by the INSERT itself; a later one only over the version it read,
// decided by the UPDATE's WHERE.

package sqlstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.PasswordPolicyStore = (*Store)(nil)

// PasswordPolicy implements store.PasswordPolicyStore.
func (s *Store) PasswordPolicy(ctx context.Context, tenantID string) (store.PasswordPolicy, error) {
	p := store.PasswordPolicy{TenantID: tenantID}
	err := s.db.QueryRowContext(ctx, `SELECT min_length, max_length, contains_letters, contains_numbers,
		contains_special_letters, disable_sequential_characters, disable_repeating_characters, disable_account_information, version
		FROM pbxauth_password_policies WHERE tenant_id = $1`, tenantID).
		Scan(&p.MinLength, &p.MaxLength, &p.ContainsLetters, &p.ContainsNumbers, &p.ContainsSpecialLetters,
			&p.DisableSequentialCharacters, &p.DisableRepeatingCharacters, &p.DisableAccountInformation, &p.Version)
	return p, storeErr("password policy", err)
}

// PutPasswordPolicy implements store.PasswordPolicyStore.
func (s *Store) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	args := []any{p.TenantID, p.MinLength, p.MaxLength, p.ContainsLetters, p.ContainsNumbers, p.ContainsSpecialLetters,
		p.DisableSequentialCharacters, p.DisableRepeatingCharacters, p.DisableAccountInformation, p.Version + 1}
	return s.putVersioned(ctx, "put password policy", p.TenantID, p.Version,
		`UPDATE pbxauth_password_policies SET min_length = $2, max_length = $3,
		contains_letters = $4, contains_numbers = $5, contains_special_letters = $6, disable_sequential_characters = $7,
		disable_repeating_characters = $8, disable_account_information = $9, version = $10
		WHERE tenant_id = $1 AND version = $11`, append(args, p.Version),
		`INSERT INTO pbxauth_password_policies (tenant_id, min_length, max_length,
		contains_letters, contains_numbers, contains_special_letters, disable_sequential_characters,
		disable_repeating_characters, disable_account_information, version)
		SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM pbxauth_tenants WHERE id = $1
		ON CONFLICT (tenant_id) DO NOTHING`, args)
}
