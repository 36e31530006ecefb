// This file lets the tests reach the grant listener: which backend it is,
// keeping it from reconnecting, and making it ignore notifications.

package sqlstore

import (
	"context"
	"sync"
)

// ListenerName is the grant listener's application_name.
const ListenerName = listenerName

// GrantListenerPID returns the backend PID of st's grant listener; 0
// while it has none, or st has no grant cache.
func GrantListenerPID(st *Store) uint32 {
	if st.grants == nil {
		return 0
	}
	return st.grants.pid.Load()
}

// HoldGrantListener keeps st's grant listener from reconnecting, once its
// connection fails, until release is first called.
func HoldGrantListener(st *Store) (release func()) {
	held := make(chan struct{})
	hook := func(ctx context.Context) {
		select {
		case <-held:
		case <-ctx.Done():
		}
	}
	st.grants.beforeReconnect.Store(&hook)
	var once sync.Once
	return func() {
		once.Do(func() {
			st.grants.beforeReconnect.Store(nil)
			close(held)
		})
	}
}

// IgnoreGrantNotifications makes st's grant listener ignore every
// notification from now on, while it keeps its heartbeats: the cache then
// serves until what the Store itself writes drops a grant.
func IgnoreGrantNotifications(st *Store) { st.grants.deaf.Store(true) }
