package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// The recommended output layout for an organisation's exports: one table,
// partitioned by account, region, pool and day.
const recommendedLayout = "account={account}/region={region}/pool={pool}/dt={date}/"

// runAthenaDDL prints an Athena CREATE EXTERNAL TABLE over the Parquet
// exports under a location laid out as recommendedLayout, with partition
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
	bucket, prefix, err := s3dest.ParseURL(location)
	if err != nil {
		return err
	}
	for _, name := range []string{table, database} {
		if identity.ColumnName(name) != name {
			return usageError{fmt.Sprintf("athena-ddl: %q: use lower-case letters, digits and _", name)}
		}
	}
	attrs, err := ddlAttributes(list(attributes))
	if err != nil {
		return err
	}
	cols, err := sink.ParquetColumns(attrs)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, athenaDDL(database, table, "s3://"+bucket+"/"+prefix, since, cols))
	return nil
}

// ddlAttributes types the attribute columns as the exports wrote them:
// Cognito's standard attributes as Cognito defines them, custom ones as
// strings unless name=integer or name=boolean says otherwise.
func ddlAttributes(names []string) ([]sink.AttrColumn, error) {
	var schema []identity.SchemaAttribute
	var picked []string
	for _, entry := range names {
		name, typ, _ := strings.Cut(entry, "=")
		dataType := map[string]string{"": "", "string": "String", "integer": "Number", "boolean": "Boolean"}[typ]
		if _, ok := map[string]bool{"": true, "string": true, "integer": true, "boolean": true}[typ]; !ok {
			return nil, usageError{fmt.Sprintf("athena-ddl --attributes %s: the type is string, integer or boolean", entry)}
		}
		if dataType == "" {
			dataType = map[string]string{"email_verified": "Boolean", "phone_number_verified": "Boolean", "updated_at": "Number"}[name]
		}
		schema = append(schema, identity.SchemaAttribute{Name: name, DataType: dataType})
		picked = append(picked, name)
	}
	cols, err := identity.Select(picked, schema)
	if err != nil {
		return nil, usageError{"athena-ddl " + err.Error()}
	}
	x, err := identity.NewExtractor(cols, identity.Key{})
	if err != nil {
		return nil, err
	}
	return x.Columns(), nil
}

// athenaType is the Athena (Hive DDL) type of a Parquet column.
func athenaType(c sink.ParquetColumn) string {
	switch {
	case c.Timestamp:
		return "timestamp"
	case c.Physical == "BOOLEAN":
		return "boolean"
	case c.Physical == "INT32":
		return "int"
	case c.Physical == "INT64":
		return "bigint"
	}
	return "string"
}

func athenaDDL(database, table, location, since string, cols []sink.ParquetColumn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", database, table)
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  `%s` %s%s\n", c.Name, athenaType(c), sep)
	}
	template := location + strings.NewReplacer("{account}", "${account}", "{region}", "${region}", "{pool}", "${pool}", "{date}", "${dt}").Replace(recommendedLayout)
	fmt.Fprintf(&b, `)
PARTITIONED BY (`+"`account` string, `region` string, `pool` string, `dt` string"+`)
STORED AS PARQUET
LOCATION '%s'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'injected',
  'projection.region.type' = 'injected',
  'projection.pool.type' = 'injected',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '%s,NOW',
  'storage.location.template' = '%s'
);
`, location, since, template)
	return b.String()
}
