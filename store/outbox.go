// This file holds the Outbox, the Store capability behind durable mail: a
// request that was answered 200 is recorded before the answer and stays
// until a worker on any instance has sent it or given it up.

package store

import (
	"context"
	"time"
)

// OutboxMail is one accepted mail request. It holds what is needed to write
// the mail at send time, never a token: the flow token of a reset link is
// minted by each attempt.
type OutboxMail struct {
	ID        string
	Kind      string // "password_reset"
	Data      string // kind-specific and opaque to the store: UTF-8 text without NUL
	CreatedAt time.Time
	// NextAt is when the record is due (again).
	NextAt time.Time
	// Attempts counts the attempts made so far.
	Attempts int
	// FlowHash is the hash of the flow token the latest attempt minted,
	// so that the next attempt removes that flow; zero before the first.
	FlowHash Hash
	// Claim and LeaseUntil are set by ClaimMail: the claim's identifier
	// and the end of its lease. A record is claimable when it is due and
	// its lease (if any) has run out.
	Claim      string
	LeaseUntil time.Time
}

// Outbox keeps mail requests until they are delivered. Every shipped store
// implements it; a host's own Store that does not makes New fail unless
// Config.VolatileMail accepts a queue in memory.
//
// Error contract: ErrNotFound when there is nothing to claim, or when the
// claim given to UpdateMail or DeleteMail no longer holds the record (its
// lease ran out and another worker claimed it, or it was deleted); any
// other error is a backend failure.
type Outbox interface {
	// AddMail stores a new record; ErrConflict when its ID exists.
	AddMail(ctx context.Context, m OutboxMail) error
	// ClaimMail claims one record that is due at now (NextAt not after
	// now) and whose lease has run out (LeaseUntil not after now), the one
	// due longest first, by setting its Claim to claim and its LeaseUntil
	// to until, and returns it as claimed. Of concurrent claimers, also in
	// other processes, each record goes to exactly one.
	ClaimMail(ctx context.Context, claim string, now, until time.Time) (OutboxMail, error)
	// UpdateMail replaces the record with m.ID — its NextAt, Attempts,
	// FlowHash, Claim and LeaseUntil — with m's, if its stored Claim still
	// equals claim. A worker releases a record by storing an empty Claim
	// and a zero LeaseUntil.
	UpdateMail(ctx context.Context, m OutboxMail, claim string) error
	// DeleteMail removes the record id if claim still holds it.
	DeleteMail(ctx context.Context, id, claim string) error
}

// OutboxReporter is implemented by outboxes that can say how much they
// hold, for the metrics pbxauth.outbox.depth and pbxauth.outbox.oldest_age;
// every shipped store (and the volatile queue) does.
type OutboxReporter interface {
	// OutboxStats returns how many records the outbox holds, claimed or
	// not, and when the oldest was created (the zero time when empty).
	OutboxStats(ctx context.Context) (n int, oldest time.Time, err error)
}
