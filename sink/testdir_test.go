package sink

import (
	"context"
	"os"
	"path/filepath"
)

// testDir is a directory destination for the sink's own tests, which
// cannot import sink/localdest (it imports sink): a part is written under
// a dot-name and renamed on Commit.
type testDir struct{ dir string }

func openTestDir(dir string) (testDir, error) { return testDir{dir}, os.MkdirAll(dir, 0o755) }

func (d testDir) Create(_ context.Context, name string) (Part, error) {
	f, err := os.Create(filepath.Join(d.dir, ".tmp-"+name))
	return &testFile{f: f, final: filepath.Join(d.dir, name)}, err
}

func (d testDir) Put(ctx context.Context, name string, data []byte) error {
	return os.WriteFile(filepath.Join(d.dir, name), data, 0o644)
}

type testFile struct {
	f     *os.File
	final string
}

func (p *testFile) Write(_ context.Context, b []byte) error {
	_, err := p.f.Write(b)
	return err
}

func (p *testFile) Commit(context.Context) error {
	if err := p.f.Close(); err != nil {
		return err
	}
	return os.Rename(p.f.Name(), p.final)
}

func (p *testFile) Abort(context.Context) {
	p.f.Close()
	os.Remove(p.f.Name())
}
