package localdest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Conditional writes, for a lease: a file created only if absent, replaced
// or removed only at the version last read. A version is the SHA-256 of
// the file's bytes.

// Read returns a small file and its version; (nil, "", nil) when absent.
// Files are only ever renamed or linked into place, so a read never sees
// half of one.
func (d *Dir) Read(_ context.Context, name string) ([]byte, string, error) {
	data, err := os.ReadFile(filepath.Join(d.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return data, version(data), nil
}

func version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Swap writes data as name only if name is at version match, or absent
// when match is "". The bytes are written and fsync'd under a temporary
// name first. Creating links that file to name, which fails if name exists
// (the O_EXCL of a file that appears whole); replacing compares and renames
// under an exclusive lock of the directory, so that of two writers at one
// version only one succeeds. A condition that does not hold is a
// *PreconditionError.
func (d *Dir) Swap(ctx context.Context, name string, data []byte, match string) (string, error) {
	tmp, err := d.writeTemp(name, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	final := filepath.Join(d.dir, name)
	if match == "" {
		if err := os.Link(tmp, final); errors.Is(err, os.ErrExist) {
			return "", &PreconditionError{Name: name, Why: "it exists"}
		} else if err != nil {
			return "", fmt.Errorf("create %s: %w", name, err)
		}
		return version(data), syncDir(d.dir)
	}
	err = d.locked(func() error {
		if err := d.at(name, match); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("replace %s: %w", name, err)
		}
		return syncDir(d.dir)
	})
	if err != nil {
		return "", err
	}
	return version(data), nil
}

// Remove deletes name if it is at version match.
func (d *Dir) Remove(ctx context.Context, name, match string) error {
	return d.locked(func() error {
		if err := d.at(name, match); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(d.dir, name)); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
		return syncDir(d.dir)
	})
}

// at checks that name is at version match.
func (d *Dir) at(name, match string) error {
	data, v, err := d.Read(context.Background(), name)
	if err != nil {
		return err
	}
	if data == nil || v != match {
		return &PreconditionError{Name: name, Why: "it changed"}
	}
	return nil
}

// writeTemp writes data durably under a temporary name for name, readable
// by the export's readers.
func (d *Dir) writeTemp(name string, data []byte) (string, error) {
	f, err := os.CreateTemp(d.dir, tempPrefix+name+"-")
	if err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o644), f.Sync(), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return f.Name(), nil
}

// locked runs fn under an exclusive flock of the directory. The lock is
// held for a read and a rename, never across a wait for anything else.
func (d *Dir) locked(fn func() error) error {
	f, err := os.Open(d.dir)
	if err != nil {
		return fmt.Errorf("open %s to lock it: %w", d.dir, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s (a filesystem without locks cannot hold a lease: pass --lease=off): %w", d.dir, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

// PreconditionError is a conditional write refused: the file is not in the
// state the write was made for. Package fault knows it by its method.
type PreconditionError struct{ Name, Why string }

func (e *PreconditionError) Error() string {
	return fmt.Sprintf("%s not written: %s (precondition failed)", e.Name, e.Why)
}

// PreconditionFailed says what the error is, for fault.Precondition.
func (e *PreconditionError) PreconditionFailed() bool { return true }
