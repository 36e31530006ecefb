// This file holds the in-memory Outbox: MemoryStore's, and the volatile
// queue New uses for a custom store without one when Config.VolatileMail
// allows it.

package pbxauth

import (
	"context"
	"sync"
	"time"
)

// memoryOutbox is an Outbox in a map under its own lock.
type memoryOutbox struct {
	mu    sync.Mutex
	mails map[string]OutboxMail
}

var _ Outbox = (*memoryOutbox)(nil)

func newMemoryOutbox() *memoryOutbox { return &memoryOutbox{mails: map[string]OutboxMail{}} }

// AddMail implements Outbox.
func (o *memoryOutbox) AddMail(ctx context.Context, m OutboxMail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.mails[m.ID]; ok {
		return ErrConflict
	}
	o.mails[m.ID] = m
	return nil
}

// ClaimMail implements Outbox.
func (o *memoryOutbox) ClaimMail(ctx context.Context, claim string, now, until time.Time) (OutboxMail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var best OutboxMail
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
		return OutboxMail{}, ErrNotFound
	}
	best.Claim, best.LeaseUntil = claim, until
	o.mails[best.ID] = best
	return best, nil
}

// UpdateMail implements Outbox.
func (o *memoryOutbox) UpdateMail(ctx context.Context, m OutboxMail, claim string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, ok := o.mails[m.ID]
	if !ok || old.Claim != claim {
		return ErrNotFound
	}
	old.NextAt, old.Attempts, old.FlowHash, old.Claim, old.LeaseUntil = m.NextAt, m.Attempts, m.FlowHash, m.Claim, m.LeaseUntil
	o.mails[m.ID] = old
	return nil
}

// DeleteMail implements Outbox.
func (o *memoryOutbox) DeleteMail(ctx context.Context, id, claim string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.mails[id]; !ok || old.Claim != claim {
		return ErrNotFound
	}
	delete(o.mails, id)
	return nil
}

var _ OutboxReporter = (*memoryOutbox)(nil)

// OutboxStats implements OutboxReporter.
func (o *memoryOutbox) OutboxStats(ctx context.Context) (int, time.Time, error) {
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
