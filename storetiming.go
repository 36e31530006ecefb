// This file times every Store call for the metric pbxauth.store.duration,
// by operation. The wrapper implements Store only: optional capabilities
// (Outbox, TOTPStore, Sweeper, ...) are found on Config.Store itself, so
// wrapping never hides or fakes one. pbxauth calls the Store through it
// only while a meter provider could record (Auth.store).

package pbxauth

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// storeOp names a Store method.
type storeOp int

const (
	opSystem storeOp = iota
	opPutSystem
	opCreateTenant
	opUpdateTenant
	opTenant
	opTenantByDomain
	opCreateUser
	opUpdateUser
	opUser
	opUserByName
	opUsersByEmail
	opSwapPasswordHash
	opResetPassword
	opCreateFamily
	opAddToken
	opGrant
	opRotateRefresh
	opRevokeFamily
	opRevokeUser
	opCreateFlow
	opFlow
	opUpdateFlow
	opConsumeFlow
	opCounter
	opPutCounter
	opDeleteCounter
	opUnlinkUser
	opLinkIdentity
	opIdentityUser
	opRekeyIdentity
	opTouchFamily
	opFamilies
	opRevokeUserFamily
	opRevokeOtherFamilies
	opRevokeMethodFamilies
	opSetUserDisabled
	opSetPasswordForceReset
	opAddCounter
	opAddCounterBelow
	opDevice
	opAddDevice
	opRotateDevice
	opDeleteDevices
	opUseOnce
	opChangePassword
	opSetUsername
	storeOps
)

var storeOpNames = [storeOps]string{
	opSystem:                "System",
	opPutSystem:             "PutSystem",
	opCreateTenant:          "CreateTenant",
	opUpdateTenant:          "UpdateTenant",
	opTenant:                "Tenant",
	opTenantByDomain:        "TenantByDomain",
	opCreateUser:            "CreateUser",
	opUpdateUser:            "UpdateUser",
	opUser:                  "User",
	opUserByName:            "UserByName",
	opUsersByEmail:          "UsersByEmail",
	opSwapPasswordHash:      "SwapPasswordHash",
	opResetPassword:         "ResetPassword",
	opCreateFamily:          "CreateFamily",
	opAddToken:              "AddToken",
	opGrant:                 "Grant",
	opRotateRefresh:         "RotateRefresh",
	opRevokeFamily:          "RevokeFamily",
	opRevokeUser:            "RevokeUser",
	opCreateFlow:            "CreateFlow",
	opFlow:                  "Flow",
	opUpdateFlow:            "UpdateFlow",
	opConsumeFlow:           "ConsumeFlow",
	opCounter:               "Counter",
	opPutCounter:            "PutCounter",
	opDeleteCounter:         "DeleteCounter",
	opUnlinkUser:            "UnlinkUser",
	opLinkIdentity:          "LinkIdentity",
	opIdentityUser:          "IdentityUser",
	opRekeyIdentity:         "RekeyIdentity",
	opTouchFamily:           "TouchFamily",
	opFamilies:              "Families",
	opRevokeUserFamily:      "RevokeUserFamily",
	opRevokeOtherFamilies:   "RevokeOtherFamilies",
	opRevokeMethodFamilies:  "RevokeMethodFamilies",
	opSetUserDisabled:       "SetUserDisabled",
	opSetPasswordForceReset: "SetPasswordForceReset",
	opAddCounter:            "AddCounter",
	opAddCounterBelow:       "AddCounterBelow",
	opDevice:                "Device",
	opAddDevice:             "AddDevice",
	opRotateDevice:          "RotateDevice",
	opDeleteDevices:         "DeleteDevices",
	opUseOnce:               "UseOnce",
	opChangePassword:        "ChangePassword",
	opSetUsername:           "SetUsername",
}

// timedStore is a Store whose calls are recorded in a histogram.
type timedStore struct {
	store.Store
	duration metric.Float64Histogram
	attrs    [storeOps][]metric.RecordOption // made once, passed as is: no allocation per call
}

// newTimedStore wraps st, recording into the histogram of m.
func newTimedStore(st store.Store, m metric.Meter) (*timedStore, error) {
	h, err := secondsHistogram(m, "pbxauth.store.duration", "How long a Store call took, by operation.")
	if err != nil {
		return nil, err
	}
	s := &timedStore{Store: st, duration: h}
	for op, name := range storeOpNames {
		s.attrs[op] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("pbxauth.store.operation", name)))}
	}
	return s, nil
}

// start is when a timed call begins, or the zero time when nobody reads
// the histogram (a no-op provider): then a call costs no clock reading.
func (ts *timedStore) start(ctx context.Context) time.Time {
	if !ts.duration.Enabled(ctx) {
		return time.Time{}
	}
	return time.Now()
}

// record records how long a call begun at start took. Methods call it
// with defer, start evaluated when the call begins: no closure, no
// allocation.
func (ts *timedStore) record(ctx context.Context, op storeOp, start time.Time) {
	if start.IsZero() {
		return
	}
	ts.duration.Record(ctx, time.Since(start).Seconds(), ts.attrs[op]...)
}

// System implements Store, timed.
func (ts *timedStore) System(ctx context.Context) (store.System, error) {
	defer ts.record(ctx, opSystem, ts.start(ctx))
	return ts.Store.System(ctx)
}

// PutSystem implements Store, timed.
func (ts *timedStore) PutSystem(ctx context.Context, s store.System) error {
	defer ts.record(ctx, opPutSystem, ts.start(ctx))
	return ts.Store.PutSystem(ctx, s)
}

// CreateTenant implements Store, timed.
func (ts *timedStore) CreateTenant(ctx context.Context, t store.Tenant) error {
	defer ts.record(ctx, opCreateTenant, ts.start(ctx))
	return ts.Store.CreateTenant(ctx, t)
}

// UpdateTenant implements Store, timed.
func (ts *timedStore) UpdateTenant(ctx context.Context, t store.Tenant) error {
	defer ts.record(ctx, opUpdateTenant, ts.start(ctx))
	return ts.Store.UpdateTenant(ctx, t)
}

// Tenant implements Store, timed.
func (ts *timedStore) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	defer ts.record(ctx, opTenant, ts.start(ctx))
	return ts.Store.Tenant(ctx, id)
}

// TenantByDomain implements Store, timed.
func (ts *timedStore) TenantByDomain(ctx context.Context, domain string) (store.Tenant, error) {
	defer ts.record(ctx, opTenantByDomain, ts.start(ctx))
	return ts.Store.TenantByDomain(ctx, domain)
}

// CreateUser implements Store, timed.
func (ts *timedStore) CreateUser(ctx context.Context, u store.User) error {
	defer ts.record(ctx, opCreateUser, ts.start(ctx))
	return ts.Store.CreateUser(ctx, u)
}

// UpdateUser implements Store, timed.
func (ts *timedStore) UpdateUser(ctx context.Context, u store.User) error {
	defer ts.record(ctx, opUpdateUser, ts.start(ctx))
	return ts.Store.UpdateUser(ctx, u)
}

// User implements Store, timed.
func (ts *timedStore) User(ctx context.Context, id string) (store.User, error) {
	defer ts.record(ctx, opUser, ts.start(ctx))
	return ts.Store.User(ctx, id)
}

// UserByName implements Store, timed.
func (ts *timedStore) UserByName(ctx context.Context, tenantID, username string) (store.User, error) {
	defer ts.record(ctx, opUserByName, ts.start(ctx))
	return ts.Store.UserByName(ctx, tenantID, username)
}

// UsersByEmail implements Store, timed.
func (ts *timedStore) UsersByEmail(ctx context.Context, tenantID, email string) ([]store.User, error) {
	defer ts.record(ctx, opUsersByEmail, ts.start(ctx))
	return ts.Store.UsersByEmail(ctx, tenantID, email)
}

// SwapPasswordHash implements Store, timed.
func (ts *timedStore) SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error {
	defer ts.record(ctx, opSwapPasswordHash, ts.start(ctx))
	return ts.Store.SwapPasswordHash(ctx, userID, oldHash, newHash)
}

// ResetPassword implements Store, timed.
func (ts *timedStore) ResetPassword(ctx context.Context, userID, newHash string, forceReset bool) error {
	defer ts.record(ctx, opResetPassword, ts.start(ctx))
	return ts.Store.ResetPassword(ctx, userID, newHash, forceReset)
}

// CreateFamily implements Store, timed.
func (ts *timedStore) CreateFamily(ctx context.Context, f store.Family, maxLive int, tokens ...store.Token) ([]string, error) {
	defer ts.record(ctx, opCreateFamily, ts.start(ctx))
	return ts.Store.CreateFamily(ctx, f, maxLive, tokens...)
}

// AddToken implements Store, timed.
func (ts *timedStore) AddToken(ctx context.Context, t store.Token, now time.Time) error {
	defer ts.record(ctx, opAddToken, ts.start(ctx))
	return ts.Store.AddToken(ctx, t, now)
}

// Grant implements Store, timed.
func (ts *timedStore) Grant(ctx context.Context, h store.Hash, kind store.TokenKind, now time.Time) (store.Grant, error) {
	defer ts.record(ctx, opGrant, ts.start(ctx))
	return ts.Store.Grant(ctx, h, kind, now)
}

// RotateRefresh implements Store, timed.
func (ts *timedStore) RotateRefresh(ctx context.Context, h store.Hash, now time.Time, next ...store.Token) (store.Grant, error) {
	defer ts.record(ctx, opRotateRefresh, ts.start(ctx))
	return ts.Store.RotateRefresh(ctx, h, now, next...)
}

// RevokeFamily implements Store, timed.
func (ts *timedStore) RevokeFamily(ctx context.Context, familyID string) error {
	defer ts.record(ctx, opRevokeFamily, ts.start(ctx))
	return ts.Store.RevokeFamily(ctx, familyID)
}

// RevokeUser implements Store, timed.
func (ts *timedStore) RevokeUser(ctx context.Context, userID string) error {
	defer ts.record(ctx, opRevokeUser, ts.start(ctx))
	return ts.Store.RevokeUser(ctx, userID)
}

// CreateFlow implements Store, timed.
func (ts *timedStore) CreateFlow(ctx context.Context, f store.Flow) error {
	defer ts.record(ctx, opCreateFlow, ts.start(ctx))
	return ts.Store.CreateFlow(ctx, f)
}

// Flow implements Store, timed.
func (ts *timedStore) Flow(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	defer ts.record(ctx, opFlow, ts.start(ctx))
	return ts.Store.Flow(ctx, h, now)
}

// UpdateFlow implements Store, timed.
func (ts *timedStore) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	defer ts.record(ctx, opUpdateFlow, ts.start(ctx))
	return ts.Store.UpdateFlow(ctx, f, now)
}

// ConsumeFlow implements Store, timed.
func (ts *timedStore) ConsumeFlow(ctx context.Context, h store.Hash, purpose store.FlowPurpose, now time.Time) (store.Flow, error) {
	defer ts.record(ctx, opConsumeFlow, ts.start(ctx))
	return ts.Store.ConsumeFlow(ctx, h, purpose, now)
}

// Counter implements Store, timed.
func (ts *timedStore) Counter(ctx context.Context, key string, now time.Time) (store.Counter, error) {
	defer ts.record(ctx, opCounter, ts.start(ctx))
	return ts.Store.Counter(ctx, key, now)
}

// PutCounter implements Store, timed.
func (ts *timedStore) PutCounter(ctx context.Context, c store.Counter, now time.Time) error {
	defer ts.record(ctx, opPutCounter, ts.start(ctx))
	return ts.Store.PutCounter(ctx, c, now)
}

// DeleteCounter implements Store, timed.
func (ts *timedStore) DeleteCounter(ctx context.Context, key string) error {
	defer ts.record(ctx, opDeleteCounter, ts.start(ctx))
	return ts.Store.DeleteCounter(ctx, key)
}

// UnlinkUser implements Store, timed.
func (ts *timedStore) UnlinkUser(ctx context.Context, tenantID, userID string) error {
	defer ts.record(ctx, opUnlinkUser, ts.start(ctx))
	return ts.Store.UnlinkUser(ctx, tenantID, userID)
}

// LinkIdentity implements Store, timed.
func (ts *timedStore) LinkIdentity(ctx context.Context, id store.Identity) error {
	defer ts.record(ctx, opLinkIdentity, ts.start(ctx))
	return ts.Store.LinkIdentity(ctx, id)
}

// IdentityUser implements Store, timed.
func (ts *timedStore) IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error) {
	defer ts.record(ctx, opIdentityUser, ts.start(ctx))
	return ts.Store.IdentityUser(ctx, tenantID, issuer, subject)
}

// RekeyIdentity implements Store, timed.
func (ts *timedStore) RekeyIdentity(ctx context.Context, id store.Identity, from string) error {
	defer ts.record(ctx, opRekeyIdentity, ts.start(ctx))
	return ts.Store.RekeyIdentity(ctx, id, from)
}

// TouchFamily implements Store, timed.
func (ts *timedStore) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	defer ts.record(ctx, opTouchFamily, ts.start(ctx))
	return ts.Store.TouchFamily(ctx, familyID, now, staleBefore)
}

// Families implements Store, timed.
func (ts *timedStore) Families(ctx context.Context, userID string, now time.Time) ([]store.Family, error) {
	defer ts.record(ctx, opFamilies, ts.start(ctx))
	return ts.Store.Families(ctx, userID, now)
}

// RevokeUserFamily implements Store, timed.
func (ts *timedStore) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	defer ts.record(ctx, opRevokeUserFamily, ts.start(ctx))
	return ts.Store.RevokeUserFamily(ctx, userID, familyID, now)
}

// RevokeOtherFamilies implements Store, timed.
func (ts *timedStore) RevokeOtherFamilies(ctx context.Context, userID, except string, now time.Time) ([]string, error) {
	defer ts.record(ctx, opRevokeOtherFamilies, ts.start(ctx))
	return ts.Store.RevokeOtherFamilies(ctx, userID, except, now)
}

// RevokeMethodFamilies implements Store, timed.
func (ts *timedStore) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	defer ts.record(ctx, opRevokeMethodFamilies, ts.start(ctx))
	return ts.Store.RevokeMethodFamilies(ctx, userID, method, now)
}

// ChangePassword implements Store, timed.
func (ts *timedStore) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	defer ts.record(ctx, opChangePassword, ts.start(ctx))
	return ts.Store.ChangePassword(ctx, userID, epoch, keep, newHash, now)
}

// SetUserDisabled implements Store, timed.
func (ts *timedStore) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	defer ts.record(ctx, opSetUserDisabled, ts.start(ctx))
	return ts.Store.SetUserDisabled(ctx, userID, disabled)
}

// SetPasswordForceReset implements Store, timed.
func (ts *timedStore) SetPasswordForceReset(ctx context.Context, userID string, force bool) error {
	defer ts.record(ctx, opSetPasswordForceReset, ts.start(ctx))
	return ts.Store.SetPasswordForceReset(ctx, userID, force)
}

// SetUsername implements Store, timed.
func (ts *timedStore) SetUsername(ctx context.Context, userID, username string) error {
	defer ts.record(ctx, opSetUsername, ts.start(ctx))
	return ts.Store.SetUsername(ctx, userID, username)
}

// AddCounter implements Store, timed.
func (ts *timedStore) AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (store.Counter, error) {
	defer ts.record(ctx, opAddCounter, ts.start(ctx))
	return ts.Store.AddCounter(ctx, key, delta, expiresAt, now)
}

// AddCounterBelow implements Store, timed.
func (ts *timedStore) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	defer ts.record(ctx, opAddCounterBelow, ts.start(ctx))
	return ts.Store.AddCounterBelow(ctx, key, limit, expiresAt, now)
}

// Device implements Store, timed.
func (ts *timedStore) Device(ctx context.Context, h store.Hash, now time.Time) (store.Device, error) {
	defer ts.record(ctx, opDevice, ts.start(ctx))
	return ts.Store.Device(ctx, h, now)
}

// AddDevice implements Store, timed.
func (ts *timedStore) AddDevice(ctx context.Context, d store.Device, max int, now time.Time) error {
	defer ts.record(ctx, opAddDevice, ts.start(ctx))
	return ts.Store.AddDevice(ctx, d, max, now)
}

// RotateDevice implements Store, timed.
func (ts *timedStore) RotateDevice(ctx context.Context, old store.Hash, d store.Device, now time.Time) error {
	defer ts.record(ctx, opRotateDevice, ts.start(ctx))
	return ts.Store.RotateDevice(ctx, old, d, now)
}

// DeleteDevices implements Store, timed.
func (ts *timedStore) DeleteDevices(ctx context.Context, userID string) error {
	defer ts.record(ctx, opDeleteDevices, ts.start(ctx))
	return ts.Store.DeleteDevices(ctx, userID)
}

// UseOnce implements Store, timed.
func (ts *timedStore) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	defer ts.record(ctx, opUseOnce, ts.start(ctx))
	return ts.Store.UseOnce(ctx, purpose, id, expiresAt)
}
