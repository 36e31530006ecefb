// Tests of mergeVersioned: a lost put merges again into what is stored
// now, and a change that keeps losing ends as ErrConflict after
// mergeAttempts reads, never stored.

package pbxauth

import (
	"errors"
	"testing"

	"github.com/pbxauth/pbxauth/store"
)

func TestMergeVersionedRemergesALostPut(t *testing.T) {
	stored, reads := 10, 0
	got, err := mergeVersioned("the number",
		func() (int, error) { reads++; return stored, nil },
		func(cur int) (int, error) { return cur + 1, nil },
		func(next int) error {
			if reads == 1 { // another change stored meanwhile
				stored = 20
				return store.ErrConflict
			}
			stored = next
			return nil
		})
	if err != nil || got != 21 || stored != 21 || reads != 2 {
		t.Errorf("got %d, %v, stored %d after %d reads; want 21 over the concurrent change, after 2 reads", got, err, stored, reads)
	}
}

func TestMergeVersionedGivesUp(t *testing.T) {
	reads, puts := 0, 0
	_, err := mergeVersioned("the number",
		func() (int, error) { reads++; return 0, nil },
		func(cur int) (int, error) { return cur + 1, nil },
		func(int) error { puts++; return store.ErrConflict })
	if !errors.Is(err, store.ErrConflict) || reads != mergeAttempts || puts != mergeAttempts {
		t.Errorf("err %v after %d reads and %d puts; want ErrConflict after %d", err, reads, puts, mergeAttempts)
	}
	boom := errors.New("boom")
	if _, err := mergeVersioned("the number",
		func() (int, error) { return 0, nil },
		func(int) (int, error) { return 0, boom },
		func(int) error { t.Error("put after a failed merge"); return nil }); !errors.Is(err, boom) {
		t.Errorf("merge's error: %v", err)
	}
}
