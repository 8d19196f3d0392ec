// Package duckdb lets tests read the files the exporter writes with an
// independent engine: DuckDB, through the @duckdb/node-api npm package, so a
// Parquet file is judged by a reader that shares no code with its writer.
//
// The npm package ships DuckDB's native library, so nothing needs compiling;
// it needs node on PATH and `npm ci` in this directory (see
// scripts/install-test-deps.sh).
package duckdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// InstallHint says how to make Available succeed.
const InstallHint = "install node (v18+) and run scripts/install-test-deps.sh (npm ci in internal/duckdb)"

// Result is a query result as query.mjs prints it. Types are DuckDB's type
// names (VARCHAR, INTEGER, BOOLEAN, TIMESTAMP WITH TIME ZONE, ...). In Rows,
// NULL is nil, strings are string, booleans bool, numbers float64 (64-bit
// integers that do not fit a float64 exactly are decimal strings) and every
// timestamp is an RFC 3339 UTC string with six fractional digits, e.g.
// "2020-01-02T03:04:05.678000Z".
type Result struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

// dir is this package's source directory: node_modules lives next to the
// script, wherever the test that calls Query runs from.
func dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

var (
	availOnce sync.Once
	availErr  error
)

// Available reports nil when node and the npm package are installed.
func Available() error {
	availOnce.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			availErr = fmt.Errorf("node not found on PATH: %s", InstallHint)
			return
		}
		pkg := filepath.Join(dir(), "node_modules", "@duckdb", "node-api", "package.json")
		if _, err := os.Stat(pkg); err != nil {
			availErr = fmt.Errorf("@duckdb/node-api is not installed in %s: %s", dir(), InstallHint)
			return
		}
		// Loading the native binding is what fails on an unsupported
		// platform, so prove a query runs rather than trusting the files.
		if _, err := run("SELECT 1"); err != nil {
			availErr = fmt.Errorf("duckdb does not run: %v: %s", err, InstallHint)
		}
	})
	return availErr
}

// Require skips or fails t when DuckDB is not available: a skip under -short,
// a failure when COGNITO_EXPORT_REQUIRE_PEERS=1, a skip otherwise.
func Require(t testing.TB) {
	t.Helper()
	peer.Start(t, "DuckDB")
	if err := Available(); err != nil {
		peer.Missing(t, fmt.Errorf("duckdb: %w", err))
	}
}

// Query runs sql in a fresh in-memory DuckDB and fails t on any error.
func Query(t testing.TB, sql string) Result {
	t.Helper()
	peer.Start(t, "DuckDB")
	res, err := run(sql)
	if err != nil {
		t.Fatalf("duckdb query %q: %v", sql, err)
	}
	return res
}

func run(sql string) (Result, error) {
	// SQL goes through stdin so that quoting and argv length never matter.
	cmd := exec.Command("node", filepath.Join(dir(), "query.mjs"))
	cmd.Dir = dir()
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return Result{}, errors.New(msg)
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("decode query.mjs output %q: %w", stdout.String(), err)
	}
	return res, nil
}

// Quote makes s a SQL string literal, for paths inside read_parquet('...').
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
