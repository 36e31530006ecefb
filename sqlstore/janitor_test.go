// This file checks RunJanitor without sleeping: the test's clock tells when
// a sweep runs.

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
)

// sweepClock returns a now func for RunJanitor that answers at and tells
// sweeps about each call (dropping the news when nobody listens).
func sweepClock(at time.Time) (now func() time.Time, sweeps <-chan struct{}) {
	ch := make(chan struct{}, 1)
	return func() time.Time {
		select {
		case ch <- struct{}{}:
		default:
		}
		return at
	}, ch
}

func TestRunJanitor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := backends[0].newStore(t)
	if err := st.CreateFlow(ctx, store.Flow{Hash: store.HashToken("f"), ExpiresAt: t0}); err != nil {
		t.Fatal(err)
	}
	st.ErrorLog = func(err error) { t.Errorf("ErrorLog: %v", err) }
	now, sweeps := sweepClock(t0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.RunJanitor(ctx, time.Millisecond, now)
	}()
	<-sweeps
	<-sweeps // the second sweep began, so the first is over
	cancel()
	<-done
	if n, err := st.DeleteExpired(context.Background(), t0); err != nil || n != 0 {
		t.Errorf("DeleteExpired after the janitor = %d, %v; want nothing left to delete", n, err)
	}
}

func TestRunJanitorErrors(t *testing.T) {
	db, err := sql.Open("sqlite", sqlite.DSN(t.TempDir()+"/pbxauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(context.Background(), db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	errs := make(chan error, 1)
	st.ErrorLog = func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.RunJanitor(ctx, time.Millisecond, nil)
	}()
	err = <-errs
	cancel()
	<-done
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("ErrorLog got %v; want the backend failure", err)
	}
}
