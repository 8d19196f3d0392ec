package exportcheck_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
)

// recorder keeps the failures a check reports instead of failing the test.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.TB.Fatalf("CompareEach gave up: "+format, args...)
}

func rows(t *testing.T, rs ...exportcheck.Row) (path, table string) {
	path = exportcheck.WriteRows(t, rs)
	return path, fmt.Sprintf(`read_json(%s, format='newline_delimited', columns={username:'VARCHAR', user_sub:'VARCHAR', group_name:'VARCHAR', group_precedence:'INTEGER', group_role_arn:'VARCHAR'})`, duckdb.Quote(path))
}

// TestCompareEachNamesTheExportsThatDiffer: of an exact export, one with a
// row twice, one missing a row and one with a row too many, CompareEach
// fails the last three, each by its name.
func TestCompareEachNamesTheExportsThatDiffer(t *testing.T) {
	duckdb.Require(t)
	admins := "admins"
	a := exportcheck.Row{Username: "alice", UserSub: "s-a", GroupName: &admins}
	b := exportcheck.Row{Username: "bob", UserSub: "s-b"}
	c := exportcheck.Row{Username: "carol", UserSub: "s-c"}
	truth, exact := rows(t, a, b)
	_, twice := rows(t, a, b, b)
	_, missing := rows(t, a)
	_, extra := rows(t, a, b, c)
	r := &recorder{TB: t}
	exportcheck.CompareEach(r, []string{exact, twice, missing, extra}, truth)
	if len(r.failures) != 3 {
		t.Fatalf("%d failures, want 3: %q", len(r.failures), r.failures)
	}
	for i, table := range []string{twice, missing, extra} {
		if !strings.HasPrefix(r.failures[i], table) {
			t.Errorf("failure %d does not name its export: %s", i, r.failures[i])
		}
	}
}
