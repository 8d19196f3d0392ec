package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/duckdb"
)

// The table athena-ddl prints has the columns and types of the Parquet
// files the exporter writes, as an independent reader (DuckDB) finds them
// in a real export: the two cannot drift.
func TestAthenaDDLMatchesTheParquetTheSinkWrites(t *testing.T) {
	duckdb.Require(t)
	out := filepath.Join(t.TempDir(), "account=111111111111", "region=us-east-1", "pool=p", "dt=2026-12-02")
	attrs := "email,email_verified,custom:level,custom:department"
	if r := runCLI(t, cleanEnv(), "demo", "--users", "300", "--output", out, "--attributes", attrs); r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.stderr)
	}
	r := runCLI(t, cleanEnv(), "athena-ddl", "--location", "s3://audit/cognito/", "--attributes", strings.Replace(attrs, "custom:level", "custom:level=integer", 1))
	if r.code != 0 {
		t.Fatalf("athena-ddl: exit %d\n%s", r.code, r.stderr)
	}
	var ddl []string
	for _, m := range regexp.MustCompile("(?m)^  `([a-z_0-9]+)` ([a-z]+),?$").FindAllStringSubmatch(r.stdout, -1) {
		ddl = append(ddl, m[1]+" "+m[2])
	}
	res := duckdb.Query(t, fmt.Sprintf("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(%s, hive_partitioning=false))",
		duckdb.Quote(out+"/*.parquet")))
	athena := map[string]string{"VARCHAR": "string", "BOOLEAN": "boolean", "INTEGER": "int", "BIGINT": "bigint", "TIMESTAMP WITH TIME ZONE": "timestamp"}
	var parquet []string
	for _, row := range res.Rows {
		typ, ok := athena[row[1].(string)]
		if !ok {
			t.Fatalf("column %v: DuckDB type %v has no Athena mapping here", row[0], row[1])
		}
		parquet = append(parquet, row[0].(string)+" "+typ)
	}
	if strings.Join(ddl, ", ") != strings.Join(parquet, ", ") {
		t.Fatalf("athena-ddl columns:\n  %s\nParquet columns (DuckDB):\n  %s", strings.Join(ddl, ", "), strings.Join(parquet, ", "))
	}
	for _, want := range []string{"PARTITIONED BY (`account` string, `region` string, `pool` string, `dt` string)",
		"'storage.location.template' = 's3://audit/cognito/account=${account}/region=${region}/pool=${pool}/dt=${dt}/'"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("the DDL lacks %s:\n%s", want, r.stdout)
		}
	}
}
