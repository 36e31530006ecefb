// This file holds the roles a user may have: PortSIP's built-in roles, split
// into system and tenant ones, and the host's custom roles (Config.Roles).

package pbxauth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// PortSIP's built-in roles. Their names are reserved: no custom role may use
// one, in any case.
const (
	// RoleSystemAdmin has almost all permissions (a system user).
	RoleSystemAdmin = "SystemAdmin"
	// RoleReplicator is the application permissions collection (a system user).
	RoleReplicator = "Replicator"
	// RoleDealer manages the tenants it sold (a system user).
	RoleDealer = "Dealer"
	// RoleAdmin has every tenant-wide permission (a tenant user).
	RoleAdmin = "Admin"
	// RoleStandardUser has every user-wide permission (a tenant user).
	RoleStandardUser = "StandardUser"
	// RoleStandardInternationalUser is RoleStandardUser with international
	// calls (a tenant user).
	RoleStandardInternationalUser = "StandardInternationalUser"
	// RoleQueueManager manages call queues (a tenant user).
	RoleQueueManager = "QueueManager"
)

// The built-in roles by the kind of user that may have them. PortSIP's
// system-level roles belong to system users (no tenant); the others, and
// every custom role, to tenant users: a custom role names a permission set
// within a tenant, and letting one onto a system user would make a
// system-wide account nobody can tell from its role.
var (
	systemRoles = []string{RoleSystemAdmin, RoleReplicator, RoleDealer}
	tenantRoles = []string{RoleAdmin, RoleStandardUser, RoleStandardInternationalUser, RoleQueueManager}
)

// builtinRole reports whether name is a built-in role's, in any case.
func builtinRole(name string) bool {
	for _, r := range append(systemRoles[:len(systemRoles):len(systemRoles)], tenantRoles...) {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// maxRole is the longest role in bytes, as store.User.Validate allows.
const maxRole = 64

// checkCustomRoles checks Config.Roles: each 1–64 printable, non-space ASCII
// characters, listed once, and no built-in name.
func checkCustomRoles(roles []string) error {
	for i, r := range roles {
		switch {
		case r == "" || len(r) > maxRole || !store.ValidDomain(r):
			return fmt.Errorf("pbxauth: Config.Roles: %q must be 1-64 printable characters without spaces", r)
		case builtinRole(r):
			return fmt.Errorf("pbxauth: Config.Roles: %q is a built-in role", r)
		case slices.Contains(roles[:i], r):
			return fmt.Errorf("pbxauth: Config.Roles: %q is listed twice", r)
		}
	}
	return nil
}

// checkRole validates the role of a new user: a system role for a system
// user; a tenant role or one of Config.Roles for a tenant user. Roles match
// exactly: "admin" is not Admin.
func (a *Auth) checkRole(role string, tenant bool) *apiError {
	switch {
	case role == "":
		return invalidArgument("role is required")
	case !tenant && slices.Contains(systemRoles, role):
		return nil
	case tenant && (slices.Contains(tenantRoles, role) || slices.Contains(a.cfg.Roles, role)):
		return nil
	case !tenant:
		return invalidArgument("role of a system user must be SystemAdmin, Replicator or Dealer")
	}
	return invalidArgument("role must be Admin, StandardUser, StandardInternationalUser, QueueManager or one of Config.Roles")
}
