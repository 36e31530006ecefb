package pbxauth

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode"
)

// TestFoldKeyMatchesEncodingJSON: two keys fold alike exactly when
// encoding/json would match them to the same field (bytes.EqualFold), for
// every rune with a non-trivial case orbit, and a field is filled through
// any key that folds like its name.
func TestFoldKeyMatchesEncodingJSON(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r {
			continue
		}
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			a, b := "x"+string(r)+"y", "X"+string(o)+"Y"
			if !bytes.EqualFold([]byte(a), []byte(b)) || foldKey(a) != foldKey(b) {
				t.Fatalf("%q and %q: EqualFold %v, foldKey %q %q", a, b, bytes.EqualFold([]byte(a), []byte(b)), foldKey(a), foldKey(b))
			}
		}
		// A rune outside the orbit folds differently.
		if foldKey(string(r)) == foldKey(string(r+1)) && !bytes.EqualFold([]byte(string(r)), []byte(string(r+1))) {
			t.Fatalf("%q and %q fold alike but encoding/json tells them apart", r, r+1)
		}
	}
	var v struct {
		Username string `json:"username"`
	}
	for _, key := range []string{"username", "USERNAME", "uſername", "UſERNAME"} {
		v.Username = ""
		if err := json.Unmarshal([]byte(`{"`+key+`":"frank"}`), &v); err != nil || v.Username != "frank" {
			t.Fatalf("encoding/json does not fill username from %q: %v", key, err)
		}
		if foldKey(key) != foldKey("username") {
			t.Errorf("foldKey(%q) = %q, foldKey(username) = %q", key, foldKey(key), foldKey("username"))
		}
	}
}
