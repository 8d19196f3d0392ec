package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cognito-export/cognito-export/athena"
	"github.com/cognito-export/cognito-export/identity"
)

// runAthenaDDL prints an Athena CREATE EXTERNAL TABLE over the Parquet
// exports under a location laid out as athena.Layout, with partition
// projection, so that no crawler or MSCK REPAIR is needed.
func runAthenaDDL(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("athena-ddl", "athena-ddl --location s3://bucket/prefix/ [--table T] [--database D] [--attributes LIST] [--since YYYY-MM-DD]", stdout)
	var location, table, database, attributes, since string
	fs.StringVar(&location, "location", "", "the s3:// prefix above the account=…/region=…/pool=…/dt=…/ folders (required)")
	fs.StringVar(&table, "table", "cognito_memberships", "table name")
	fs.StringVar(&database, "database", "default", "Glue database")
	fs.StringVar(&attributes, "attributes", identity.DefaultAttributes, "the exports' --attributes, by Cognito's names; a custom Number or Boolean attribute as name=integer or name=boolean")
	fs.StringVar(&since, "since", "2024-01-01", "first day of the dt partition projection")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if location == "" {
		return usageError{"athena-ddl: missing --location s3://bucket/prefix/"}
	}
	ddl, err := athena.DDL(database, table, location, since, splitList(attributes))
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, ddl)
	return nil
}
