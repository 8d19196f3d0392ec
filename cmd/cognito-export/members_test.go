package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/internal/duckdb"
)

// TestStrayMembersFileIsPrunedOnResume pins issue 13's defect 2: a by-group
// run killed after it wrote a members file but before the checkpoint that
// names it leaves a _members-*.bin no checkpoint names; the resumed run
// must remove it. Before the fix the prune did not know the name and the
// file stayed for good.
func TestStrayMembersFileIsPrunedOnResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary twice")
	}
	duckdb.Require(t)
	c := newCrashEnv(t, "local", "by-group")
	l := startLive(t, c.command())
	l.waitRecord(t, "checkpoint saved", atLeast("member_files", 1))
	l.cmd.Process.Signal(syscall.SIGTERM)
	if code := l.wait(t); code != 143 {
		t.Fatalf("exit %d, want 143 (0: the run finished before it was stopped; make the pool bigger)\n%s", code, l.allStderr())
	}
	data, err := os.ReadFile(filepath.Join(c.out, export.CheckpointName))
	if err != nil {
		t.Fatal(err)
	}
	var st checkpoint.State
	if err := json.Unmarshal(data, &st); err != nil || len(st.MemberFiles) == 0 {
		t.Fatalf("the stopped run's checkpoint names no members file (err %v): %s", err, data)
	}
	// What a kill between the members file and the checkpoint leaves: a
	// members file that no checkpoint names. Its number is far past any
	// this export reaches, so no later commit writes the same name.
	stray := filepath.Join(c.out, "_members-99999999.bin")
	if err := os.WriteFile(stray, bytes.Repeat([]byte{7}, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	c.finish(t)
	entries, _ := os.ReadDir(c.out)
	var left []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "_members-") || strings.HasPrefix(e.Name(), "_done-") {
			left = append(left, e.Name())
		}
	}
	if len(left) != 0 {
		t.Fatalf("resume state left in a finished export: %v", left)
	}
}
