// Package localdest writes an export's files into a local directory, each
// made durable and then renamed into place, so a reader never sees a
// half-written file under its final name.
package localdest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cognito-export/cognito-export/sink"
)

// Dir writes parts and small files into a directory. Every file is written
// under a temporary name and renamed when complete.
type Dir struct {
	dir string
}

// A file is written as tempPrefix + its name + "-" + random digits, then
// renamed; the writability probe is probePrefix + random digits.
const (
	tempPrefix  = ".tmp-"
	probePrefix = ".probe-"
)

// Open creates dir if needed and proves it is writable, so that a bad
// output fails before any Cognito call is spent.
func Open(dir string) (*Dir, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, notADirectory(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, probePrefix)
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w", dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Dir{dir: dir}, nil
}

// String is the directory, for logs and messages.
func (d *Dir) String() string { return d.dir }

// Create opens a part that becomes visible under name only on Commit.
func (d *Dir) Create(_ context.Context, name string) (sink.Part, error) {
	f, err := os.CreateTemp(d.dir, tempPrefix+name+"-")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return &localPart{f: f, final: filepath.Join(d.dir, name)}, nil
}

// Put writes a small file, such as the manifest, atomically.
func (d *Dir) Put(ctx context.Context, name string, data []byte) error {
	p, err := d.Create(ctx, name)
	if err != nil {
		return err
	}
	if err := p.Write(ctx, data); err != nil {
		p.Abort(ctx)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return p.Commit(ctx)
}

// Prune removes the files directly in the directory that remove accepts,
// and the temporary files of writes that never committed (a killed run's)
// whose final name remove accepts, or a probe's.
func (d *Dir) Prune(_ context.Context, remove func(name string) bool) error {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return fmt.Errorf("list output directory: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			continue
		}
		doomed := remove(n) || strings.HasPrefix(n, probePrefix)
		if final, ok := tempFinal(n); ok {
			doomed = remove(final)
		}
		if doomed {
			if err := os.Remove(filepath.Join(d.dir, n)); err != nil {
				return fmt.Errorf("remove %s: %w", n, err)
			}
		}
	}
	return nil
}

// tempFinal is the final name of a temporary file, which os.CreateTemp
// names tempPrefix + name + "-" + random digits.
func tempFinal(temp string) (string, bool) {
	rest, ok := strings.CutPrefix(temp, tempPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return "", false
	}
	return rest[:i], true
}

type localPart struct {
	f     *os.File
	final string
}

// Write appends to the temporary file; a local write is not cancelled.
func (p *localPart) Write(_ context.Context, b []byte) error {
	_, err := p.f.Write(b)
	return err
}

// Commit makes the part durable before it becomes visible: fsync the data,
// rename, then fsync the directory so the rename itself survives a crash.
func (p *localPart) Commit(_ context.Context) error {
	// CreateTemp makes owner-only files; the export is for its readers.
	if err := p.f.Chmod(0o644); err != nil {
		p.Abort(context.Background())
		return fmt.Errorf("chmod %s: %w", filepath.Base(p.final), err)
	}
	if err := p.f.Sync(); err != nil {
		p.Abort(context.Background())
		return fmt.Errorf("sync %s: %w", filepath.Base(p.final), err)
	}
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("close %s: %w", filepath.Base(p.final), err)
	}
	if err := os.Rename(p.f.Name(), p.final); err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("rename %s: %w", filepath.Base(p.final), err)
	}
	return syncDir(filepath.Dir(p.final))
}

// Abort removes the temporary file; it needs no context.
func (p *localPart) Abort(context.Context) {
	p.f.Close()
	os.Remove(p.f.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

var _ sink.Part = (*localPart)(nil)

// Get reads a small file; a missing file is (nil, nil).
func (d *Dir) Get(_ context.Context, name string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(d.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if data == nil && err == nil {
		data = []byte{}
	}
	return data, err
}

// Delete removes a file; a missing file is not an error.
func (d *Dir) Delete(_ context.Context, name string) error {
	err := os.Remove(filepath.Join(d.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(d.dir)
}

// notADirectory is an output path that names a file. It is ENOTDIR in the
// chain, which is how a caller tells it from a failure a retry may fix.
type notADirectory string

func (d notADirectory) Error() string {
	return fmt.Sprintf("output %s is a file, not a directory: choose a directory path", string(d))
}
func (notADirectory) Unwrap() error { return syscall.ENOTDIR }

// OpenExisting opens a directory that must already exist, for reading: it
// creates nothing and probes nothing, so that a reader needs no write
// permission and a mistyped path is not made into an empty directory. A
// missing directory is an error wrapping fs.ErrNotExist.
func OpenExisting(dir string) (*Dir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, notADirectory(dir)
	}
	return &Dir{dir: dir}, nil
}

// Open streams a file; a missing one is an error wrapping fs.ErrNotExist.
func (d *Dir) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(d.dir, name))
}

// Dirs returns the names of the directories directly in the directory,
// sorted: the sibling exports of a scheduled job.
func (d *Dir) Dirs(_ context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// List returns the names of the files directly in the directory, sorted:
// the committed ones only, never a write's temporary file or a probe.
func (d *Dir) List(_ context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.dir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, tempPrefix) || strings.HasPrefix(n, probePrefix) {
			continue
		}
		names = append(names, n)
	}
	return names, nil
}
