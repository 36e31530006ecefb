package memrate

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLimit(t *testing.T) {
	l := New(3, time.Minute, 10)
	for i := range 3 {
		if ok, _ := l.Allow("a", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	ok, wait := l.Allow("a", t0.Add(10*time.Second))
	if ok || wait != 50*time.Second {
		t.Fatalf("4th event: %v, wait %v; want refused for 50s", ok, wait)
	}
	if ok, _ := l.Allow("b", t0.Add(10*time.Second)); !ok {
		t.Fatal("another key was refused")
	}
	// Refused events are not counted: the window ends when it would have.
	if ok, _ := l.Allow("a", t0.Add(time.Minute-time.Nanosecond)); ok {
		t.Fatal("allowed 1ns before the window ends")
	}
	for i := range 3 {
		if ok, _ := l.Allow("a", t0.Add(time.Minute)); !ok {
			t.Fatalf("event %d of the next window refused", i)
		}
	}
	if ok, wait := l.Allow("a", t0.Add(time.Minute)); ok || wait != time.Minute {
		t.Fatalf("4th event of the next window: %v, wait %v", ok, wait)
	}
}

func TestConcurrent(t *testing.T) {
	l := New(20, time.Minute, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 200 {
		wg.Go(func() {
			if ok, _ := l.Allow("k", t0); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Errorf("%d of 200 concurrent events allowed, want 20", allowed)
	}
}

// TestBounded: the table never holds more than maxKeys keys; when it is
// full of live keys, other keys pass uncounted (never refused), and keys
// already counted keep their limit; once windows end the table makes
// room again.
func TestBounded(t *testing.T) {
	l := New(2, time.Minute, 100)
	for i := range 100 {
		l.Allow(fmt.Sprint("k", i), t0)
	}
	for range 5 {
		if ok, _ := l.Allow("victim", t0.Add(time.Second)); !ok {
			t.Fatal("a new key was refused while the table was full")
		}
	}
	if n := l.Uncounted(); n != 5 {
		t.Errorf("Uncounted = %d, want 5", n)
	}
	l.Allow("k0", t0.Add(time.Second))
	if ok, _ := l.Allow("k0", t0.Add(time.Second)); ok {
		t.Error("a counted key passed its limit while the table was full")
	}
	for i := range 1000 {
		l.Allow(fmt.Sprint("x", i), t0.Add(2*time.Second))
	}
	if n := len(l.keys); n > 100 {
		t.Fatalf("%d keys kept, want at most 100", n)
	}
	// The windows end: new keys are counted again.
	later := t0.Add(time.Minute)
	for range 2 {
		l.Allow("victim", later)
	}
	if ok, _ := l.Allow("victim", later); ok {
		t.Error("after the windows ended, a new key was not counted")
	}
	if n := len(l.keys); n > 100 {
		t.Errorf("%d keys kept, want at most 100", n)
	}
}

// TestSweep: keys whose window is over are forgotten without the table
// filling up first.
func TestSweep(t *testing.T) {
	l := New(1, time.Minute, 1000)
	for i := range 10 {
		l.Allow(fmt.Sprint("k", i), t0)
	}
	l.Allow("late", t0.Add(2*time.Minute))
	if n := len(l.keys); n != 1 {
		t.Errorf("%d keys kept two windows later, want 1", n)
	}
}
