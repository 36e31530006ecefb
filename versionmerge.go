// This file is the merge of a change into a tenant's versioned record (its
// password policy, its Microsoft sign-in rules): read, merge, store over
// the version read, and again while concurrent changes win.

package pbxauth

import (
	"errors"
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// mergeAttempts bounds the merges of one change that lose to concurrent
// changes: each loss means another change was stored.
const mergeAttempts = 8

// mergeVersioned reads the record, merges the change into it and puts
// the result, which the Store stores only over the version read
// (ErrConflict otherwise, nothing stored); a lost put merges again into
// what is stored now, at most mergeAttempts times, then is ErrConflict
// saying what keeps changing. It returns what was stored; read's, merge's
// and put's other errors end it.
func mergeVersioned[T any](what string, read func() (T, error), merge func(T) (T, error), put func(T) error) (T, error) {
	var zero T
	for range mergeAttempts {
		cur, err := read()
		if err != nil {
			return zero, err
		}
		next, err := merge(cur)
		if err != nil {
			return zero, err
		}
		if err := put(next); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return zero, err
		}
		return next, nil
	}
	return zero, fmt.Errorf("%w: concurrent changes of %s kept overtaking this one", store.ErrConflict, what)
}
