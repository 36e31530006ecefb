package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestRotation(t *testing.T) {
	old, _ := New([][]byte{key(1)})
	box, err := old.Seal([]byte("JBSWY3DPEHPK3PXP"), []byte("pbxauth/totp\x00u1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("the box holds the secret in the clear")
	}
	rotated, _ := New([][]byte{key(2), key(1)})
	got, err := rotated.Open(box, []byte("pbxauth/totp\x00u1"))
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("s"), nil)
	if _, err := old.Open(fresh, nil); !errors.Is(err, ErrOpen) {
		t.Errorf("a box of the new key opened with the old one: %v", err)
	}
	dropped, _ := New([][]byte{key(2)})
	if _, err := dropped.Open(box, []byte("pbxauth/totp\x00u1")); !errors.Is(err, ErrOpen) {
		t.Errorf("a box of a dropped key opened: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	k, _ := New([][]byte{key(1)})
	box, _ := k.Seal([]byte("secret"), []byte("u1"))
	if _, err := k.Open(box, []byte("u2")); !errors.Is(err, ErrOpen) {
		t.Errorf("a box bound to u1 opened for u2: %v", err)
	}
	for i := range box {
		bad := bytes.Clone(box)
		bad[i] ^= 1
		if _, err := k.Open(bad, []byte("u1")); !errors.Is(err, ErrOpen) {
			t.Fatalf("a box changed at byte %d opened", i)
		}
	}
	if _, err := k.Open(box[:10], []byte("u1")); !errors.Is(err, ErrOpen) {
		t.Error("a truncated box opened")
	}
	if _, err := New([][]byte{key(1)[:31]}); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := New([][]byte{key(1), key(1)}); err == nil {
		t.Error("a key listed twice was accepted")
	}
	var none Keys
	if _, err := none.Seal([]byte("x"), nil); err == nil {
		t.Error("Seal without keys succeeded")
	}
}
