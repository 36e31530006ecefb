// This file measures Grant, the query behind every authenticated request.

package sqlstore_test

import (
	"context"
	"testing"

	"github.com/pbxauth/pbxauth/store"
)

func BenchmarkGrant(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.newStore(b)
			addUser(b, st, "u1")
			_, access, _ := signIn(b, st, "u1", "f1")
			ctx := context.Background()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.Grant(ctx, access, store.AccessToken, t0); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
