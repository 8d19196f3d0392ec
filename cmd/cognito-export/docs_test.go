package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// foreignFlags are the --flags the docs name that belong to other programs,
// each with where it is used. A flag of ours may not be listed here.
var foreignFlags = map[string]string{
	"cli-input-json":                 "aws scheduler create-schedule, in operations.md's deployment table; the remediation script's aws commands",
	"group-name":                     "aws cognito-idp admin-remove-user-from-group, in the remediation script",
	"bucket":                         "aws s3api create-bucket, in operations.md's Object Lock section",
	"object-lock-enabled-for-bucket": "aws s3api create-bucket, in operations.md's Object Lock section",
}

// topLevel are the --flags main's run takes in place of a command.
var topLevel = []string{"help", "version"}

// usageCommands are the commands usageText lists, read from it so that a
// new command is held against its help and the docs as soon as it is in
// the usage.
func usageCommands(t *testing.T) []string {
	t.Helper()
	_, list, ok := strings.Cut(usageText, "commands:\n")
	if !ok {
		t.Fatal("usageText has no commands: section")
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var out []string
	for _, line := range strings.Split(list, "\n") {
		if name, ok := strings.CutPrefix(line, "  "); ok && name != "" && name[0] != ' ' {
			out = append(out, strings.Fields(name)[0])
		}
	}
	if len(out) < 8 {
		t.Fatalf("read %d commands from usageText: %q", len(out), out)
	}
	return out
}

var defaultsLine = regexp.MustCompile(`(?m)^  -([a-z0-9][a-z0-9-]*)`)

// acceptedFlags runs every command's -h, as a user would, and reads its
// flags from what flag.PrintDefaults printed: command by flag name.
func acceptedFlags(t *testing.T) map[string][]string {
	t.Helper()
	by := map[string][]string{}
	for _, cmd := range usageCommands(t) {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{cmd, "-h"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("%s -h: exit %d: %s", cmd, code, &stderr)
		}
		if !strings.HasPrefix(stdout.String(), "usage: cognito-export "+cmd) {
			t.Fatalf("%s -h printed no usage:\n%s", cmd, &stdout)
		}
		for _, m := range defaultsLine.FindAllStringSubmatch(stdout.String(), -1) {
			by[m[1]] = append(by[m[1]], cmd)
		}
	}
	for _, name := range topLevel {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"--" + name}, &stdout, &stderr); code != exitOK {
			t.Fatalf("--%s: exit %d: %s", name, code, &stderr)
		}
		by[name] = append(by[name], "(no command)")
	}
	return by
}

// docFlag is a --flag in prose or in a command line: not the -- of a SQL
// comment, nor the middle of a word.
var docFlag = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)`)

// docsFlags reads README.md and every page of docs/: flag by file.
func docsFlags(t *testing.T, root string) map[string][]string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(pages) < 5 {
		t.Fatalf("docs/*.md: %d pages (%v)", len(pages), err)
	}
	by := map[string][]string{}
	for _, p := range append([]string{filepath.Join(root, "README.md")}, pages...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		for _, m := range docFlag.FindAllStringSubmatch(string(data), -1) {
			if !slices.Contains(by[m[1]], rel) {
				by[m[1]] = append(by[m[1]], rel)
			}
		}
	}
	return by
}

// missingAndUnknown compares the two sets: the flags the binary accepts
// that the docs never name, and the flags the docs name that the binary
// does not accept (nor another program, by foreignFlags).
func missingAndUnknown(accepted, documented map[string][]string) (missing, unknown []string) {
	for name, cmds := range accepted {
		if _, ok := documented[name]; !ok {
			missing = append(missing, "--"+name+" (of "+strings.Join(cmds, ", ")+")")
		}
	}
	for name, files := range documented {
		if _, ok := accepted[name]; !ok {
			if _, foreign := foreignFlags[name]; !foreign {
				unknown = append(unknown, "--"+name+" (in "+strings.Join(files, ", ")+")")
			}
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	return missing, unknown
}

// The reference cannot drift from the binary: every flag a command accepts
// is named in README.md or docs/, and every --flag they name is one a
// command accepts.
func TestDocsNameEveryFlagAndNoOther(t *testing.T) {
	accepted := acceptedFlags(t)
	if len(accepted) < 60 {
		t.Fatalf("read %d flags from the commands' -h: is the usage format what the test reads?", len(accepted))
	}
	documented := docsFlags(t, filepath.Join("..", ".."))
	missing, unknown := missingAndUnknown(accepted, documented)
	for _, m := range missing {
		t.Errorf("the binary accepts %s, which README.md and docs/ never name: document it in docs/cli.md", m)
	}
	for _, u := range unknown {
		t.Errorf("the docs name %s, which no command accepts: fix the docs, or list another program's flag in foreignFlags", u)
	}
	for name, where := range foreignFlags {
		if _, ours := accepted[name]; ours {
			t.Errorf("foreignFlags lists --%s (%s), which is a flag of ours", name, where)
		}
		if _, named := documented[name]; !named {
			t.Errorf("foreignFlags lists --%s, which the docs no longer name: remove it", name)
		}
	}
}

// The comparison catches a flag dropped from the docs and a flag the docs
// invent, and reads a --flag where the docs write one: in a table, after
// a backquote, with a value, but not in a SQL comment or inside a word.
func TestDocsCheckCatchesDrift(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"README.md":       "Run `export --user-pool-id ID --output=DIR`.\n-- a SQL comment\nper-user--not-a-flag\n",
		"docs/cli.md":     "| `--rate CATEGORY=RPS` | pace |\n| `--report=false` | off |\n",
		"docs/a.md":       "--dry-run, then --no-such-flag\n",
		"docs/b.md":       "",
		"docs/c.md":       "`--cli-input-json file://x`\n",
		"docs/d.md":       "",
		"docs/unused.txt": "--not-read\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	documented := docsFlags(t, root)
	want := []string{"cli-input-json", "dry-run", "no-such-flag", "output", "rate", "report", "user-pool-id"}
	if got := slices.Sorted(maps.Keys(documented)); !slices.Equal(got, want) {
		t.Fatalf("read %q from the docs, want %q", got, want)
	}
	accepted := map[string][]string{"user-pool-id": {"export"}, "output": {"export"}, "rate": {"export"}, "report": {"export"},
		"dry-run": {"export"}, "fresh": {"export"}}
	missing, unknown := missingAndUnknown(accepted, documented)
	if !slices.Equal(missing, []string{"--fresh (of export)"}) || !slices.Equal(unknown, []string{"--no-such-flag (in docs/a.md)"}) {
		t.Fatalf("missing %q, unknown %q", missing, unknown)
	}
}
