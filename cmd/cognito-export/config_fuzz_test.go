package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
)

// exportFlagSet is a flag set as parseExport folds a config file into it.
func exportFlagSet() *flag.FlagSet {
	fs, _ := newExportFlags(io.Discard)
	return fs
}

// FuzzConfigFile reads a --config file and folds its layers (the top
// level, each pool and each account entry) into export's flags, as
// parseExport does. A file that is not a valid config is a usage error
// that names it, never a panic.
func FuzzConfigFile(f *testing.F) {
	for _, name := range []string{"example.yaml", "org.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"user-pool-id: us-east-1_A\noutput: out-{pool}\nconcurrency: 3\nrate:\n  UserResourceRead: 7\n",
		"rate: [UserList=5, UserResourceRead=9]\npools:\n  - user-pool-id: a\n    format: csv\n  - user-pool-id: b\n    region: eu-west-1\n",
		"accounts:\n  - role-arn: arn:aws:iam::1:role/r\n    regions: [us-east-1]\n    include: ['*prod*']\n",
		"pools:\n  - user-pool-id: a\n    rate: 5\n", "pools: 3\n", "concurency: 3\n", "user-pool-id: [a, [b]]\n",
		"a: &x [1, 2]\npools: [*x, *x]\n", "- 1\n- 2\n", "{", "user-pool-id: \"\\u0000=cmd|' /C calc'!A0\"\noutput: \"名前\"\n",
		"pools:\n  - user-pool-id: a\n    regions: us-east-1\n", "user-pool-id: a\npools:\n  - user-pool-id: b\n",
		"\x7fconcurrency\u2028: 3\n", "concurrency: \"3\x7f\u202e\"\n", "pools:\n  - \x7f: 1\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var err error
		// YAML is costly to parse: a token, an event and a Node of about
		// 150 bytes for each value, and a value may be two bytes ("a,").
		fuzzcheck.Bound{PerByte: 1024, Fixed: 1 << 20}.Check(t, len(data), func() { err = foldConfig(path) })
		if err == nil {
			return
		}
		if !isUsage(err) {
			t.Fatalf("a bad config is not a usage error (exit 2): %T %v", err, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("the error does not name the config file: %v", err)
		}
		if strings.ContainsFunc(err.Error(), func(r rune) bool { return !strconv.IsPrint(r) }) {
			t.Fatalf("the error is not one printable line: %q", err)
		}
	})
}

// foldConfig loads the file at path and applies each of its layers to a
// fresh set of export's flags, as parseExport does, with no environment.
func foldConfig(path string) error {
	noEnv := func(string) (string, bool) { return "", false }
	fc, err := loadConfigFile(path, exportFlagSet())
	if err != nil {
		return err
	}
	if err := applySources(exportFlagSet(), noEnv, fc.Top); err != nil {
		return err
	}
	for _, entry := range append(fc.Pools, fc.Accounts...) {
		if err := applySources(exportFlagSet(), noEnv, entry, fc.Top); err != nil {
			return err
		}
	}
	return nil
}
