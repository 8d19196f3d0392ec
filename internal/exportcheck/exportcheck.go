// Package exportcheck proves an export against the emulator's ground truth
// with DuckDB, an engine that shares no code with the writer: every
// membership present, none missing, none twice.
package exportcheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
)

// Row is one row an export must hold, in the columns Compare checks.
type Row struct {
	Username        string  `json:"username"`
	UserSub         string  `json:"user_sub"`
	GroupName       *string `json:"group_name"`
	GroupPrecedence *int32  `json:"group_precedence"`
	GroupRoleArn    *string `json:"group_role_arn"`
}

// WriteTruth writes the rows an export of pool must hold as JSON lines and
// returns the file's path.
func WriteTruth(t testing.TB, pool *cognitoemu.Pool, srv *cognitoemu.Server, usersWithoutGroups bool) string {
	t.Helper()
	return write(t, func(emit func(Row)) {
		groups := pool.Groups()
		var idx []int
		for i := range pool.NumUsers() {
			if srv.Deleted(pool, i) {
				continue
			}
			u := pool.User(i)
			idx = pool.UserGroups(i, idx[:0])
			if len(idx) == 0 && usersWithoutGroups {
				emit(Row{Username: u.Username, UserSub: u.Sub})
			}
			for _, gi := range idx {
				g := groups[gi]
				emit(Row{Username: u.Username, UserSub: u.Sub, GroupName: &g.Name, GroupPrecedence: g.Precedence, GroupRoleArn: g.RoleArn})
			}
		}
	})
}

// WriteRows writes rows as a truth file for Compare, for a pool that is not
// the emulator's.
func WriteRows(t testing.TB, rows []Row) string {
	t.Helper()
	return write(t, func(emit func(Row)) {
		for _, r := range rows {
			emit(r)
		}
	})
}

func write(t testing.TB, rows func(emit func(Row))) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "truth.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var encErr error
	rows(func(r Row) {
		if err := enc.Encode(r); err != nil && encErr == nil {
			encErr = err
		}
	})
	if encErr != nil {
		t.Fatal(encErr)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Compare reads the export's files (a DuckDB table expression such as
// read_parquet('dir/*.parquet')) and the truth file with DuckDB and fails
// the test on any missing, extra or duplicated row. It returns the number
// of rows in the export.
func Compare(t testing.TB, exportTable, truthPath string) int {
	t.Helper()
	duckdb.Require(t)
	truth := fmt.Sprintf(`read_json(%s, format='newline_delimited', columns={username:'VARCHAR', user_sub:'VARCHAR', group_name:'VARCHAR', group_precedence:'INTEGER', group_role_arn:'VARCHAR'})`, duckdb.Quote(truthPath))
	cols := "username, user_sub, group_name, group_precedence, group_role_arn"
	sql := fmt.Sprintf(`WITH e AS (SELECT %[1]s FROM %[2]s), w AS (SELECT %[1]s FROM %[3]s)
SELECT (SELECT count(*) FROM e) AS exported,
       (SELECT count(*) FROM w) AS expected,
       (SELECT count(*) FROM (SELECT DISTINCT * FROM e)) AS distinct_exported,
       (SELECT count(*) FROM (SELECT * FROM w EXCEPT SELECT * FROM e)) AS missing,
       (SELECT count(*) FROM (SELECT * FROM e EXCEPT SELECT * FROM w)) AS extra`, cols, exportTable, truth)
	res := duckdb.Query(t, sql)
	if len(res.Rows) != 1 {
		t.Fatalf("comparison returned %d rows", len(res.Rows))
	}
	r := res.Rows[0]
	num := func(i int) int { f, _ := r[i].(float64); return int(f) }
	exported, expected, distinct, missing, extra := num(0), num(1), num(2), num(3), num(4)
	if exported != expected || distinct != exported || missing != 0 || extra != 0 {
		t.Fatalf("export vs ground truth: %d rows exported, %d expected, %d distinct, %d missing, %d unexpected",
			exported, expected, distinct, missing, extra)
	}
	return exported
}

// CompareEach is Compare of several exports against one truth file, in
// one DuckDB query: a test of many trials pays DuckDB's start once. The
// failure names the export.
func CompareEach(t testing.TB, exportTables []string, truthPath string) {
	t.Helper()
	duckdb.Require(t)
	if len(exportTables) == 0 {
		return
	}
	truth := fmt.Sprintf(`read_json(%s, format='newline_delimited', columns={username:'VARCHAR', user_sub:'VARCHAR', group_name:'VARCHAR', group_precedence:'INTEGER', group_role_arn:'VARCHAR'})`, duckdb.Quote(truthPath))
	cols := "username, user_sub, group_name, group_precedence, group_role_arn"
	ctes := []string{fmt.Sprintf("w AS (SELECT %s FROM %s)", cols, truth)}
	var selects []string
	for i, table := range exportTables {
		ctes = append(ctes, fmt.Sprintf("e%d AS (SELECT %s FROM %s)", i, cols, table))
		selects = append(selects, fmt.Sprintf(`SELECT %[1]d AS n, (SELECT count(*) FROM e%[1]d), (SELECT count(*) FROM w),
       (SELECT count(*) FROM (SELECT DISTINCT * FROM e%[1]d)),
       (SELECT count(*) FROM (SELECT * FROM w EXCEPT SELECT * FROM e%[1]d)),
       (SELECT count(*) FROM (SELECT * FROM e%[1]d EXCEPT SELECT * FROM w))`, i))
	}
	sql := "WITH " + strings.Join(ctes, ",\n") + "\n" + strings.Join(selects, "\nUNION ALL\n") + "\nORDER BY n"
	res := duckdb.Query(t, sql)
	if len(res.Rows) != len(exportTables) {
		t.Fatalf("comparison returned %d rows for %d exports", len(res.Rows), len(exportTables))
	}
	for i, r := range res.Rows {
		num := func(i int) int { f, _ := r[i].(float64); return int(f) }
		exported, expected, distinct, missing, extra := num(1), num(2), num(3), num(4), num(5)
		if exported != expected || distinct != exported || missing != 0 || extra != 0 {
			t.Errorf("%s vs ground truth: %d rows exported, %d expected, %d distinct, %d missing, %d unexpected",
				exportTables[i], exported, expected, distinct, missing, extra)
		}
	}
}

// Same reads two exports (DuckDB table expressions) and fails the test
// unless they hold the same rows, every column compared, as many times
// each. It returns the number of rows.
func Same(t testing.TB, a, b string) int {
	t.Helper()
	duckdb.Require(t)
	sql := fmt.Sprintf(`WITH a AS (SELECT * FROM %s), b AS (SELECT * FROM %s)
SELECT (SELECT count(*) FROM a) AS rows_a,
       (SELECT count(*) FROM b) AS rows_b,
       (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)) AS only_a,
       (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)) AS only_b`, a, b)
	res := duckdb.Query(t, sql)
	if len(res.Rows) != 1 {
		t.Fatalf("comparison returned %d rows", len(res.Rows))
	}
	r := res.Rows[0]
	num := func(i int) int { f, _ := r[i].(float64); return int(f) }
	if num(0) != num(1) || num(2) != 0 || num(3) != 0 {
		t.Fatalf("exports differ: %d and %d rows, %d only in the first, %d only in the second", num(0), num(1), num(2), num(3))
	}
	return num(0)
}
