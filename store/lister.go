// This file holds the optional Store capability of listing the directory a
// page at a time: the tenants, and the users of one tenant, for operators.

package store

import "context"

// DirectoryLister lists tenants and users a page at a time, in an order
// that does not depend on the backend's locale: by the domain (tenants) or
// the username (users) folded as everywhere else (ASCII A–Z to a–z, every
// other byte as is) and compared byte by byte, as Go compares strings. A
// page starts after a cursor, the folded key of the last record of the
// page before (any case of it: the store folds it), so that records
// created or changed between pages are neither skipped nor repeated
// because of it. Every shipped store implements it; without it, Auth's
// Tenants, Users and SealTenantSecrets answer errors.ErrUnsupported. All
// methods must be safe for concurrent use.
type DirectoryLister interface {
	// Tenants returns at most limit tenants whose folded domain sorts after
	// the folded after ("" for the first page), in that order; an empty
	// slice and nil error when there are none. limit is at least 1.
	Tenants(ctx context.Context, after string, limit int) ([]Tenant, error)
	// Users returns at most limit users of the tenant (tenantID "" for
	// system users) whose folded username sorts after the folded after
	// ("" for the first page), in that order; an empty slice and nil
	// error when there are none, also for a tenant that does not exist.
	// limit is at least 1.
	Users(ctx context.Context, tenantID, after string, limit int) ([]User, error)
}
