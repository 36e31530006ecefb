package sealedstate

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

var (
	now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	exp = now.Add(10 * time.Minute)
	ad  = []byte("https://pbx.example.com/api")
)

func mustNew(t *testing.T, keys ...[]byte) *Keys {
	t.Helper()
	k, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t *testing.T, k *Keys, purpose string, data []byte) (string, State) {
	t.Helper()
	text, st, err := k.Seal(purpose, exp, data, ad)
	if err != nil {
		t.Fatal(err)
	}
	return text, st
}

func TestRoundTrip(t *testing.T) {
	k := mustNew(t, key(1))
	text, sealed := seal(t, k, "microsoft_state", []byte(`{"tenant":"acme"}`))
	if strings.Contains(text, "acme") || strings.ContainsAny(text, "+/=") {
		t.Fatalf("text %q shows its data or is not unpadded base64url", text)
	}
	got, err := k.Open("microsoft_state", text, ad, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != sealed.ID || got.Purpose != "microsoft_state" || !got.ExpiresAt.Equal(exp) || string(got.Data) != `{"tenant":"acme"}` {
		t.Errorf("opened %+v, sealed %+v", got, sealed)
	}
	if got.ID == ([IDSize]byte{}) {
		t.Error("zero ID")
	}
	// What the state derives is the same at both ends, differs by label
	// and by state, and is not in the text.
	v, n := sealed.Derive("pkce", 32), sealed.Derive("nonce", 32)
	if !bytes.Equal(v, got.Derive("pkce", 32)) || !bytes.Equal(n, got.Derive("nonce", 32)) {
		t.Error("derived values differ between Seal and Open")
	}
	if bytes.Equal(v, n) {
		t.Error("two labels derive the same bytes")
	}
	_, other := seal(t, k, "microsoft_state", []byte(`{"tenant":"acme"}`))
	if other.ID == sealed.ID || bytes.Equal(other.Derive("pkce", 32), v) {
		t.Error("two states share an ID or a derived value")
	}
	box, _ := base64.RawURLEncoding.DecodeString(text)
	if bytes.Contains(box, v) || bytes.Contains(box, sealed.ID[:]) {
		t.Error("the box carries a derived value or the ID in the clear")
	}
}

func TestFormat(t *testing.T) {
	k := mustNew(t, key(1))
	data := []byte("0123456789")
	text, _ := seal(t, k, "p", data)
	box, _ := base64.RawURLEncoding.DecodeString(text)
	// key id ‖ salt ‖ nonce ‖ ciphertext of ID, expiry, purpose, data ‖ tag
	if want := 4 + 32 + 12 + (16 + 8 + 1 + 1 + len(data)) + 16; len(box) != want {
		t.Errorf("box of %d bytes, want %d", len(box), want)
	}
	// The configured key is not the cipher key: AES-GCM under it does
	// not open the box.
	block, _ := aes.NewCipher(key(1))
	aead, _ := cipher.NewGCM(block)
	for _, extra := range [][]byte{nil, ad} {
		if _, err := aead.Open(nil, box[36:48], box[48:], extra); err == nil {
			t.Error("the box opens with the configured key itself")
		}
	}
	// Two states never share a salt, so never a key.
	text2, _ := seal(t, k, "p", data)
	box2, _ := base64.RawURLEncoding.DecodeString(text2)
	if bytes.Equal(box[4:36], box2[4:36]) {
		t.Error("two states share a salt")
	}
}

func TestRotation(t *testing.T) {
	old := mustNew(t, key(1))
	text, _ := seal(t, old, "p", []byte("x"))
	rotated := mustNew(t, key(2), key(1))
	if _, err := rotated.Open("p", text, ad, now); err != nil {
		t.Errorf("a state of the old key, still listed: %v", err)
	}
	fresh, _ := seal(t, rotated, "p", []byte("x"))
	if _, err := old.Open("p", fresh, ad, now); !errors.Is(err, ErrUnknown) {
		t.Errorf("a state of the new key opened with the old one: %v", err)
	}
	dropped := mustNew(t, key(2))
	if _, err := dropped.Open("p", text, ad, now); !errors.Is(err, ErrUnknown) {
		t.Errorf("a state of a dropped key: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	k := mustNew(t, key(1))
	text, _ := seal(t, k, "microsoft_state", []byte("data"))
	for name, tc := range map[string]struct {
		purpose, text string
		ad            []byte
	}{
		"another purpose":         {"passkey_state", text, ad},
		"other additional data":   {"microsoft_state", text, []byte("https://staging.example.com/api")},
		"no additional data":      {"microsoft_state", text, nil},
		"empty":                   {"microsoft_state", "", ad},
		"not base64url":           {"microsoft_state", text[:20] + "+" + text[21:], ad},
		"padded":                  {"microsoft_state", text + "=", ad},
		"truncated":               {"microsoft_state", text[:len(text)-1], ad},
		"only a header":           {"microsoft_state", text[:64], ad},
		"appended":                {"microsoft_state", text + "AA", ad},
		"very long":               {"microsoft_state", strings.Repeat("A", 9000), ad},
		"a state's text repeated": {"microsoft_state", text + text, ad},
	} {
		if _, err := k.Open(tc.purpose, tc.text, tc.ad, now); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: %v, want ErrUnknown", name, err)
		}
	}
	box, _ := base64.RawURLEncoding.DecodeString(text)
	for i := range box {
		bad := bytes.Clone(box)
		bad[i] ^= 0x20
		if _, err := k.Open("microsoft_state", base64.RawURLEncoding.EncodeToString(bad), ad, now); !errors.Is(err, ErrUnknown) {
			t.Fatalf("a state changed at byte %d: %v", i, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	k := mustNew(t, key(1))
	text, _ := seal(t, k, "p", nil)
	if _, err := k.Open("p", text, ad, exp.Add(-time.Nanosecond)); err != nil {
		t.Errorf("1ns before it expires: %v", err)
	}
	if _, err := k.Open("p", text, ad, exp); !errors.Is(err, ErrExpired) {
		t.Errorf("when it expires: %v", err)
	}
}

func TestNew(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"no key":      nil,
		"a short key": {key(1)[:31]},
		"a long key":  {append(key(1), 1)},
		"twice":       {key(1), key(2), key(1)},
	} {
		if _, err := New(keys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	k := mustNew(t, key(1))
	if _, _, err := k.Seal("", exp, nil, nil); err == nil {
		t.Error("an empty purpose was accepted")
	}
	if _, _, err := k.Seal(strings.Repeat("p", 256), exp, nil, nil); err == nil {
		t.Error("a purpose of 256 bytes was accepted")
	}
	// New copies the keys: a caller's later change does not reach them.
	b := key(3)
	c := mustNew(t, b)
	text, _ := seal(t, c, "p", nil)
	b[0] ^= 1
	if _, err := c.Open("p", text, ad, now); err != nil {
		t.Errorf("after the caller changed its slice: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	k := mustNew(t, key(1), key(2))
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				text, st, err := k.Seal("p", exp, []byte("d"), ad)
				if err == nil {
					var got State
					got, err = k.Open("p", text, ad, now)
					if err == nil && got.ID != st.ID {
						err = errors.New("opened another ID")
					}
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
