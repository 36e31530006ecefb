package pbxauth

// Hooks for the black-box tests in package pbxauth_test.

// HashCount returns how many argon2id hashes a has computed.
func HashCount(a *Auth) uint64 { return a.hasher.count.Load() }

// SaturateHasher occupies every hashing slot and queue place, as a burst of
// slow sign-ins would, until release is called.
func SaturateHasher(a *Auth) (release func()) {
	h := a.hasher
	n := cap(h.slots)
	for range n {
		h.slots <- struct{}{}
	}
	h.queued.Add(h.maxWait)
	return func() {
		h.queued.Add(-h.maxWait)
		for range n {
			<-h.slots
		}
	}
}

// OutboxLen returns how many records a's in-memory outbox holds (-1 when
// its outbox is not in memory).
func OutboxLen(a *Auth) int {
	var o *memoryOutbox
	switch ob := a.outbox.(type) {
	case *MemoryStore:
		o = ob.memoryOutbox
	case *memoryOutbox:
		o = ob
	default:
		return -1
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.mails)
}
