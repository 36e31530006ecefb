// Package memoutbox is an in-memory store.Outbox: the memory store's, and
// the volatile queue pbxauth.New uses for a custom store without one when
// Config.VolatileMail allows it.
package memoutbox

import (
	"context"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// Outbox is a store.Outbox in a map under its own lock. Its methods are
// safe for concurrent use.
type Outbox struct {
	mu    sync.Mutex
	mails map[string]store.OutboxMail
}

var _ store.Outbox = (*Outbox)(nil)

// New returns an empty Outbox.
func New() *Outbox { return &Outbox{mails: map[string]store.OutboxMail{}} }

// AddMail implements store.Outbox.
func (o *Outbox) AddMail(ctx context.Context, m store.OutboxMail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.mails[m.ID]; ok {
		return store.ErrConflict
	}
	o.mails[m.ID] = m
	return nil
}

// ClaimMail implements store.Outbox.
func (o *Outbox) ClaimMail(ctx context.Context, claim string, now, until time.Time) (store.OutboxMail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var best store.OutboxMail
	found := false
	for _, m := range o.mails {
		if m.NextAt.After(now) || m.LeaseUntil.After(now) {
			continue
		}
		if !found || m.NextAt.Before(best.NextAt) || (m.NextAt.Equal(best.NextAt) && m.ID < best.ID) {
			best, found = m, true
		}
	}
	if !found {
		return store.OutboxMail{}, store.ErrNotFound
	}
	best.Claim, best.LeaseUntil = claim, until
	o.mails[best.ID] = best
	return best, nil
}

// UpdateMail implements store.Outbox.
func (o *Outbox) UpdateMail(ctx context.Context, m store.OutboxMail, claim string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, ok := o.mails[m.ID]
	if !ok || old.Claim != claim {
		return store.ErrNotFound
	}
	old.NextAt, old.Attempts, old.FlowHash, old.Claim, old.LeaseUntil = m.NextAt, m.Attempts, m.FlowHash, m.Claim, m.LeaseUntil
	o.mails[m.ID] = old
	return nil
}

// DeleteMail implements store.Outbox.
func (o *Outbox) DeleteMail(ctx context.Context, id, claim string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.mails[id]; !ok || old.Claim != claim {
		return store.ErrNotFound
	}
	delete(o.mails, id)
	return nil
}

var _ store.OutboxReporter = (*Outbox)(nil)

// OutboxStats implements store.OutboxReporter.
func (o *Outbox) OutboxStats(ctx context.Context) (int, time.Time, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var oldest time.Time
	for _, m := range o.mails {
		if oldest.IsZero() || m.CreatedAt.Before(oldest) {
			oldest = m.CreatedAt
		}
	}
	return len(o.mails), oldest, nil
}
