// This file keeps tenant password policies (store.PasswordPolicyStore).
// A policy is stored only for a tenant that exists, decided by the
// INSERT itself.

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
		contains_special_letters, disable_sequential_characters, disable_repeating_characters, disable_account_information
		FROM pbxauth_password_policies WHERE tenant_id = $1`, tenantID).
		Scan(&p.MinLength, &p.MaxLength, &p.ContainsLetters, &p.ContainsNumbers, &p.ContainsSpecialLetters,
			&p.DisableSequentialCharacters, &p.DisableRepeatingCharacters, &p.DisableAccountInformation)
	return p, storeErr("password policy", err)
}

// PutPasswordPolicy implements store.PasswordPolicyStore.
func (s *Store) PutPasswordPolicy(ctx context.Context, p store.PasswordPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	n, err := affected(s.db.ExecContext(ctx, `INSERT INTO pbxauth_password_policies (tenant_id, min_length, max_length,
		contains_letters, contains_numbers, contains_special_letters, disable_sequential_characters,
		disable_repeating_characters, disable_account_information)
		SELECT id, $2, $3, $4, $5, $6, $7, $8, $9 FROM pbxauth_tenants WHERE id = $1
		ON CONFLICT (tenant_id) DO UPDATE SET min_length = excluded.min_length, max_length = excluded.max_length,
		contains_letters = excluded.contains_letters, contains_numbers = excluded.contains_numbers,
		contains_special_letters = excluded.contains_special_letters,
		disable_sequential_characters = excluded.disable_sequential_characters,
		disable_repeating_characters = excluded.disable_repeating_characters,
		disable_account_information = excluded.disable_account_information`,
		p.TenantID, p.MinLength, p.MaxLength, p.ContainsLetters, p.ContainsNumbers, p.ContainsSpecialLetters,
		p.DisableSequentialCharacters, p.DisableRepeatingCharacters, p.DisableAccountInformation))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("put password policy", err)
}
