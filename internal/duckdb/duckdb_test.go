package duckdb

import (
	"reflect"
	"testing"
)

func TestQueryEncodesValues(t *testing.T) {
	Require(t)
	res := Query(t, `SELECT 1::INTEGER a, 'x''"' b, NULL::VARCHAR c, true d,
		TIMESTAMPTZ '1969-12-31 23:59:59.5+00' e, 9007199254740993::BIGINT f`)
	wantTypes := []string{"INTEGER", "VARCHAR", "VARCHAR", "BOOLEAN", "TIMESTAMP WITH TIME ZONE", "BIGINT"}
	if !reflect.DeepEqual(res.Types, wantTypes) {
		t.Errorf("types = %q, want %q", res.Types, wantTypes)
	}
	want := []any{1.0, `x'"`, nil, true, "1969-12-31T23:59:59.500000Z", "9007199254740993"}
	if len(res.Rows) != 1 || !reflect.DeepEqual(res.Rows[0], want) {
		t.Errorf("rows = %#v, want [%#v]", res.Rows, want)
	}
}

func TestQueryReportsSQLErrors(t *testing.T) {
	Require(t)
	if _, err := run("SELEC 1"); err == nil {
		t.Fatal("want a syntax error")
	}
}
