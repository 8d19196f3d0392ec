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
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
)

type truthRow struct {
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
	path := filepath.Join(t.TempDir(), "truth.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	groups := pool.Groups()
	var idx []int
	for i := range pool.NumUsers() {
		if srv.Deleted(pool, i) {
			continue
		}
		u := pool.User(i)
		idx = pool.UserGroups(i, idx[:0])
		if len(idx) == 0 && usersWithoutGroups {
			enc.Encode(truthRow{Username: u.Username, UserSub: u.Sub})
		}
		for _, gi := range idx {
			g := groups[gi]
			enc.Encode(truthRow{Username: u.Username, UserSub: u.Sub, GroupName: &g.Name, GroupPrecedence: g.Precedence, GroupRoleArn: g.RoleArn})
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
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
