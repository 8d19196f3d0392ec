package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

func testKey(t *testing.T, fill string) identity.Key {
	t.Helper()
	k, err := identity.LoadKey("", func(string) (string, bool) { return strings.Repeat(fill, 32), true })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// runInMemory exports cfg to an in-memory destination and returns the
// manifest and the CSV records of every part, header first.
func runInMemory(t *testing.T, cfg export.Config) (sink.Manifest, [][]string, *memdest.Dest) {
	t.Helper()
	dest := memdest.New()
	cfg.Output = "mem://" + t.Name()
	e, err := export.OpenOn(context.Background(), cfg, dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := dest.Get(context.Background(), export.ManifestName)
	if err != nil || data == nil {
		t.Fatalf("manifest: %v", err)
	}
	var m sink.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var recs [][]string
	for i, p := range m.Parts {
		part, err := dest.Get(context.Background(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := csv.NewReader(bytes.NewReader(part)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if i > 0 {
			r = r[1:]
		}
		recs = append(recs, r...)
	}
	return m, recs, dest
}

// truthAttrs are user i's attributes by name.
func truthAttrs(pool *cognitoemu.Pool, i int) map[string]string {
	m := map[string]string{}
	for _, a := range pool.UserAttributes(i, nil) {
		m[a.Name] = a.Value
	}
	return m
}

// Every attribute of the pool's schema as a column, one pseudonymised and
// one redacted, through both strategies into memory: the same rows, the
// values the pool holds (typed ones canonical, hostile ones neutralised
// for spreadsheets and read back by encoding/csv exactly as written).
func TestAttributesReachEveryRowOfBothStrategies(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 12, Seed: 41}, cognitoemu.Options{})
	base := exportConfig(env, "")
	base.CSVRaw = false
	base.Attributes = []string{"all"}
	base.Pseudonymize = []string{"email"}
	base.Redact = []string{"phone_number"}
	base.Key = testKey(t, "k")
	pseudo := identity.NewPseudonymizer(base.Key)

	rows := map[string][]string{}
	for _, strategy := range []string{export.StrategyPerUser, export.StrategyByGroup} {
		cfg := base
		cfg.Strategy = strategy
		m, recs, _ := runInMemory(t, cfg)
		header := recs[0]
		if !slices.Equal(header, m.Columns) || header[14] != "name" || header[len(header)-1] != identity.UnparsedColumn {
			t.Fatalf("%s: header %v, manifest columns %v", strategy, header, m.Columns)
		}
		if m.KeyID != base.Key.ID() || m.Parameters["key_id"] != base.Key.ID() || m.Parameters["pseudonymize"] != "email" || m.Parameters["redact"] != "phone_number" {
			t.Fatalf("%s: manifest key id %q, parameters %v", strategy, m.KeyID, m.Parameters)
		}
		col := map[string]int{}
		for i, c := range header {
			col[c] = i
		}
		hostile := 0
		for _, r := range recs[1:] {
			i, ok := env.pool.Lookup(r[1])
			if !ok {
				// A neutralised username: the pool has it without the quote.
				i, ok = env.pool.Lookup(strings.TrimPrefix(r[1], "'"))
				if !ok {
					t.Fatalf("%s: unknown user %q", strategy, r[1])
				}
			}
			want := truthAttrs(env.pool, i)
			if got := r[col["email"]]; got != pseudo.Pseudonym("email", want["email"]) {
				t.Fatalf("%s: email %q is not the pseudonym of %q", strategy, got, want["email"])
			}
			if r[col["phone_number"]] != "" {
				t.Fatalf("%s: redacted phone number %q", strategy, r[col["phone_number"]])
			}
			for _, c := range []string{"name", "custom:department"} {
				v := want[c]
				exp := v
				if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
					exp, hostile = "'"+v, hostile+1
				}
				if got := r[col[identity.ColumnName(c)]]; got != exp {
					t.Fatalf("%s: %s = %q, want %q (the pool has %q)", strategy, c, got, exp, v)
				}
			}
			if got := r[col["email_verified"]]; got != want["email_verified"] {
				t.Fatalf("%s: email_verified %q, want %q", strategy, got, want["email_verified"])
			}
			if got := r[col["custom_level"]]; got != want["custom:level"] {
				t.Fatalf("%s: custom_level %q, want %q", strategy, got, want["custom:level"])
			}
		}
		if hostile == 0 {
			t.Fatalf("%s: no hostile value was exported: the pool has none, and the test proves nothing", strategy)
		}
		sorted := make([]string, 0, len(recs))
		for _, r := range recs[1:] {
			sorted = append(sorted, strings.Join(r, "\x1f"))
		}
		slices.Sort(sorted)
		rows[strategy] = sorted
	}
	if !slices.Equal(rows[export.StrategyPerUser], rows[export.StrategyByGroup]) {
		t.Fatalf("the strategies wrote different rows (%d and %d)", len(rows[export.StrategyPerUser]), len(rows[export.StrategyByGroup]))
	}
}

// The same value gets the same pseudonym in two runs with the same key, and
// another with another key; the manifest's key id says which.
func TestPseudonymsCompareAcrossRunsWithTheSameKey(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 400, Groups: 5, Seed: 42}, cognitoemu.Options{})
	cfg := exportConfig(env, "")
	cfg.Attributes, cfg.Pseudonymize = []string{"email"}, []string{"email"}
	emails := func(k identity.Key) (map[string]string, string) {
		c := cfg
		c.Key = k
		m, recs, _ := runInMemory(t, c)
		out := map[string]string{}
		for _, r := range recs[1:] {
			out[r[1]] = r[14]
		}
		return out, m.KeyID
	}
	a, idA := emails(testKey(t, "a"))
	again, idAgain := emails(testKey(t, "a"))
	b, idB := emails(testKey(t, "b"))
	if !maps.Equal(a, again) || idA != idAgain {
		t.Fatal("the same key gave other pseudonyms")
	}
	for user, p := range a {
		if b[user] == p || len(p) != 64 {
			t.Fatalf("user %s: pseudonym %q with key a, %q with key b", user, p, b[user])
		}
	}
	if idA == idB {
		t.Fatal("two keys have one id")
	}
}

// A resume with another attribute list would write parts with other
// columns than the committed ones: refused, naming the parameter.
func TestResumeWithOtherAttributesIsRefused(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 5, Seed: 43}, cognitoemu.Options{})
	cfg := interruptedExport(t, env, 2000, 300*time.Millisecond, func(c *export.Config) { c.Attributes = []string{"email"} })
	other := cfg
	other.Attributes = []string{"email", "name"}
	_, err := export.Run(context.Background(), other)
	if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), `attributes is "email" in the checkpoint but "email,name" now`) {
		t.Fatalf("err = %v", err)
	}
}

// --filter exports exactly the users the filter selects.
func TestFilterExportsTheUsersItSelects(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 8, Seed: 44}, cognitoemu.Options{})
	cfg := exportConfig(env, "")
	cfg.Strategy = export.StrategyAuto
	cfg.Filter = `email ^= "a"`
	_, recs, _ := runInMemory(t, cfg)
	got := map[string]bool{}
	for _, r := range recs[1:] {
		got[r[1]] = true
	}
	want := map[string]bool{}
	for i := range env.pool.NumUsers() {
		if strings.HasPrefix(env.pool.User(i).Email, "a") {
			want[env.pool.User(i).Username] = true
		}
	}
	if len(want) == 0 || !maps.Equal(got, want) {
		t.Fatalf("exported %d users, the filter selects %d", len(got), len(want))
	}
}

func TestBadAttributeInputIsRefusedBeforeTheExport(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 50, Groups: 3, Seed: 45}, cognitoemu.Options{})
	for _, tc := range []struct {
		name string
		set  func(*export.Config)
		msg  string
	}{
		{"unknown attribute", func(c *export.Config) { c.Attributes = []string{"emial"} }, "did you mean email"},
		{"pseudonymise what is not exported", func(c *export.Config) {
			c.Attributes, c.Pseudonymize, c.Key = []string{"email"}, []string{"name"}, testKey(t, "k")
		}, "--pseudonymize name: not an exported attribute"},
		{"no key", func(c *export.Config) { c.Attributes, c.Pseudonymize = []string{"email"}, []string{"email"} }, "needs a key"},
		{"pseudonymise a boolean", func(c *export.Config) {
			c.Attributes, c.Pseudonymize, c.Key = []string{"email_verified"}, []string{"email_verified"}, testKey(t, "k")
		}, "only text attributes"},
		{"filter on a custom attribute", func(c *export.Config) { c.Filter = `custom:department = "x"` }, "not an attribute Cognito can filter on"},
		{"filter with by-group", func(c *export.Config) { c.Filter, c.Strategy = `email ^= "a"`, export.StrategyByGroup }, "by-group"},
		// Found by FuzzParseFilter: Cognito (and the emulator) reject these.
		{"filter whose closing quote is escaped", func(c *export.Config) { c.Filter = `name = "\"` }, "closing double quote is escaped"},
		{"filter attribute quoted by half", func(c *export.Config) { c.Filter = `"email = "a"` }, "quote the whole name"},
		{"filter with a space inside ^=", func(c *export.Config) { c.Filter = `email ^ = "a"` }, "not an attribute Cognito can filter on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := memdest.New()
			cfg := exportConfig(env, "mem://bad")
			tc.set(&cfg)
			e, err := export.OpenOn(context.Background(), cfg, dest)
			if err == nil {
				_, err = e.Run(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
			if names := dest.Names(); len(names) != 0 {
				t.Fatalf("files written: %v", names)
			}
		})
	}
}

// Parquet gives Boolean attributes BOOLEAN and Number ones BIGINT, as an
// independent reader (DuckDB) sees them, with the pool's values.
func TestTypedAttributeColumnsReadBackByDuckDB(t *testing.T) {
	duckdb.Require(t)
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 6, Seed: 46}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.Format, cfg.Attributes = "parquet", []string{"all"}
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("read_parquet(%s)", duckdb.Quote(cfg.Output+"/*.parquet"))
	types := duckdb.Query(t, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+table+")")
	got := map[string]string{}
	for _, r := range types.Rows {
		got[r[0].(string)] = r[1].(string)
	}
	for col, want := range map[string]string{"email": "VARCHAR", "email_verified": "BOOLEAN", "phone_number_verified": "BOOLEAN",
		"custom_level": "BIGINT", "custom_employee_id": "BIGINT", "updated_at": "BIGINT", "custom_department": "VARCHAR", "custom_start_date": "VARCHAR"} {
		if got[col] != want {
			t.Errorf("column %s is %q, want %s", col, got[col], want)
		}
	}
	res := duckdb.Query(t, "SELECT count(DISTINCT username) FILTER (WHERE email_verified), sum(DISTINCT custom_level * 0 + 1) IS NOT NULL, count(DISTINCT username) FILTER (WHERE custom_level IS NOT NULL), max(custom_level) FROM "+table)
	verified, withLevel := 0, 0
	for i := range env.pool.NumUsers() {
		a := truthAttrs(env.pool, i)
		if a["email_verified"] == "true" {
			verified++
		}
		if a["custom:level"] != "" {
			withLevel++
		}
	}
	r := res.Rows[0]
	if int(r[0].(float64)) != verified || int(r[2].(float64)) != withLevel || r[3].(float64) > 10 {
		t.Fatalf("DuckDB counts %v; the pool has %d verified emails and %d users with a level", r, verified, withLevel)
	}
}

// The README's access-review query: the members of every group with a role
// ARN, by email, read by DuckDB from an export made with the walk-through's
// flags, equals the pool's truth.
func TestReadmeAccessReviewQuery(t *testing.T) {
	duckdb.Require(t)
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 1500, Groups: 10, Seed: 47}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.Format, cfg.Attributes = "parquet", []string{"email", "name", "email_verified"}
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	res := duckdb.Query(t, fmt.Sprintf(`SELECT group_name, group_role_arn, email, name, username, user_status, user_enabled
FROM read_parquet(%s)
WHERE group_role_arn IS NOT NULL
ORDER BY group_name, email`, duckdb.Quote(cfg.Output+"/*.parquet")))
	want := map[string]bool{}
	groups := env.pool.Groups()
	for i := range env.pool.NumUsers() {
		for _, g := range env.pool.UserGroups(i, nil) {
			if groups[g].RoleArn != nil {
				want[groups[g].Name+"\x1f"+env.pool.User(i).Email] = true
			}
		}
	}
	got := map[string]bool{}
	for _, r := range res.Rows {
		got[r[0].(string)+"\x1f"+r[2].(string)] = true
	}
	if len(want) == 0 || !maps.Equal(got, want) || len(res.Rows) != len(want) {
		t.Fatalf("the query lists %d (group, email) pairs, the pool has %d", len(res.Rows), len(want))
	}
}

// DuckDB reads a CSV export back as written: pseudonyms, NULL for the
// redacted column, and the hostile cells neutralised with their quote.
func TestCSVAttributesReadBackByDuckDB(t *testing.T) {
	duckdb.Require(t)
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 6, Seed: 48}, cognitoemu.Options{})
	cfg := exportConfig(env, t.TempDir())
	cfg.CSVRaw = false
	cfg.Attributes = []string{"email", "name", "custom:department"}
	cfg.Pseudonymize, cfg.Redact, cfg.Key = []string{"email"}, []string{"name"}, testKey(t, "d")
	if _, err := export.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	res := duckdb.Query(t, fmt.Sprintf(`SELECT DISTINCT username, email, name, custom_department FROM read_csv(%s, header=true, all_varchar=true)`,
		duckdb.Quote(cfg.Output+"/*.csv")))
	pseudo := identity.NewPseudonymizer(cfg.Key)
	neutralised := 0
	for _, r := range res.Rows {
		user := r[0].(string)
		i, ok := env.pool.Lookup(strings.TrimPrefix(user, "'"))
		if !ok {
			t.Fatalf("unknown user %q", user)
		}
		want := truthAttrs(env.pool, i)
		if r[1] != pseudo.Pseudonym("email", want["email"]) || r[2] != nil {
			t.Fatalf("user %s: email %v name %v, want the pseudonym and NULL", user, r[1], r[2])
		}
		dept, _ := r[3].(string)
		exp := want["custom:department"]
		if exp != "" && strings.ContainsRune("=+-@\t\r", rune(exp[0])) {
			exp, neutralised = "'"+exp, neutralised+1
		}
		if dept != exp {
			t.Fatalf("user %s: custom_department %q, want %q", user, dept, exp)
		}
	}
	if len(res.Rows) != env.pool.NumUsers() || neutralised == 0 {
		t.Fatalf("%d users read back (pool %d), %d neutralised cells", len(res.Rows), env.pool.NumUsers(), neutralised)
	}
}

// A policy written for per-user (no DescribeUserPool) still exports the
// attributes it names, unchecked against the schema; "all" needs the schema.
func TestAttributesWithoutDescribeUserPool(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 300, Groups: 4, Seed: 49},
		cognitoemu.Options{Deny: map[string]string{"DescribeUserPool": "AccessDeniedException"}})
	cfg := exportConfig(env, "")
	cfg.Attributes = []string{"email", "email_verified"}
	_, recs, _ := runInMemory(t, cfg)
	if recs[0][14] != "email" || recs[0][15] != "email_verified" {
		t.Fatalf("header %v", recs[0])
	}
	for _, r := range recs[1:] {
		i, _ := env.pool.Lookup(r[1])
		if r[14] != env.pool.User(i).Email {
			t.Fatalf("user %s: email %q, want %q", r[1], r[14], env.pool.User(i).Email)
		}
	}
	cfg.Attributes, cfg.Output = []string{"all"}, "mem://all"
	e, err := export.OpenOn(context.Background(), cfg, memdest.New())
	if err == nil {
		_, err = e.Run(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "cognito-idp:DescribeUserPool") {
		t.Fatalf("all without DescribeUserPool: err = %v", err)
	}
}
