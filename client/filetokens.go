// This file keeps the token pair in a file shared by processes: 0600,
// replaced atomically, refreshed under an OS lock on a file beside it.

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockPoll is how often a held lock is tried again.
const lockPoll = 20 * time.Millisecond

// TokenFile is the LockingTokenStore of [FileTokens].
type TokenFile struct {
	path string
}

// FileTokens keeps the token pair in the file at path (JSON, mode 0600)
// and locks path+".lock" around refreshes with an OS advisory lock (flock;
// LockFileEx on Windows), which the kernel releases when its process dies,
// so a crashed process never blocks the others. Several processes (or
// clients) sharing the file refresh once per generation: whoever takes the
// lock second finds the new pair and adopts it. A pair is written to a
// temporary file, synced and renamed into place, so a reader sees the old
// pair or the new one, never a torn one. Local file systems only: advisory
// locks over NFS or SMB are not to be trusted.
func FileTokens(path string) *TokenFile { return &TokenFile{path: path} }

// Load reads the pair; the zero Token when the file does not exist.
func (f *TokenFile) Load(ctx context.Context) (Token, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Token{}, nil
	}
	if err != nil {
		return Token{}, err
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, fmt.Errorf("%s: %w", f.path, err)
	}
	return t, nil
}

// Save replaces the pair: a temporary file beside it (0600) is written,
// synced and renamed over it. The zero Token removes the file.
func (f *TokenFile) Save(ctx context.Context, t Token) error {
	if t.IsZero() {
		err := os.Remove(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(f.path)+".tmp*") // mode 0600
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, f.path)
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	syncDir(dir)
	return nil
}

// Lock takes the OS lock on path+".lock", trying again every few
// milliseconds without blocking the thread, until it is taken or ctx is
// done. A ctx already done still gets one try.
func (f *TokenFile) Lock(ctx context.Context) (unlock func(), err error) {
	lf, err := os.OpenFile(f.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		ok, err := tryLock(lf)
		if err != nil {
			lf.Close()
			return nil, err
		}
		if ok {
			return func() {
				unlockFile(lf)
				lf.Close()
			}, nil
		}
		select {
		case <-ctx.Done():
			lf.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
