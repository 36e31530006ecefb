// Tests of FileTokens on its own: the file's mode, its replacement, its
// removal, and no temporary file left by a failed Save.

package client_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/client"
)

func TestFileTokensKeepsThePairPrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	f := client.FileTokens(file)
	if got, err := f.Load(ctx); err != nil || !got.IsZero() {
		t.Fatalf("Load of no file: %+v, %v", got, err)
	}
	want := client.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	for range 2 {
		if err := f.Save(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := f.Load(ctx); err != nil || got != want {
		t.Fatalf("Load: %+v, %v", got, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := f.Save(ctx, client.Token{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	if got, err := f.Load(ctx); err != nil || !got.IsZero() {
		t.Fatalf("Load after clearing: %+v, %v", got, err)
	}
}

// A Save that fails leaves no temporary file behind: here the pair cannot
// be renamed over a directory in the way.
func TestFileTokensFailedSaveLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.json")
	if err := os.MkdirAll(filepath.Join(file, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	err := client.FileTokens(file).Save(context.Background(), client.Token{AccessToken: "a", RefreshToken: "r"})
	if err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "tokens.json" {
		t.Fatalf("left behind: %v", entries)
	}
}
