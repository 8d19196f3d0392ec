// Package athena writes the Athena table over an organisation's Parquet
// exports laid out as Layout recommends: a CREATE EXTERNAL TABLE whose
// columns are the exports' (the identity attributes typed as the exports
// wrote them) and whose partitions are projected, so that no crawler or
// MSCK REPAIR is needed.
package athena

import (
	"fmt"
	"strings"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// Layout is the recommended output layout for an organisation's exports,
// under one prefix: one table, partitioned by account, region, pool and
// day.
const Layout = "account={account}/region={region}/pool={pool}/dt={date}/"

// DDL is the CREATE EXTERNAL TABLE of table in database over the exports
// under location (s3://bucket/prefix/, laid out as Layout), whose
// identity columns are attributes (Cognito's names; a custom Number or
// Boolean attribute as name=integer or name=boolean), with the dt
// partition projected from since (YYYY-MM-DD).
func DDL(database, table, location, since string, attributes []string) (string, error) {
	bucket, prefix, err := s3dest.ParseURL(location)
	if err != nil {
		return "", err
	}
	for _, name := range []string{table, database} {
		if identity.ColumnName(name) != name {
			return "", fault.Usagef(fmt.Sprintf("athena-ddl: %q: use lower-case letters, digits and _", name))
		}
	}
	attrs, err := ddlAttributes(attributes)
	if err != nil {
		return "", err
	}
	cols, err := sink.ParquetColumns(attrs)
	if err != nil {
		return "", err
	}
	return athenaDDL(database, table, "s3://"+bucket+"/"+prefix, since, cols), nil
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
			return nil, fault.Usagef(fmt.Sprintf("athena-ddl --attributes %s: the type is string, integer or boolean", entry))
		}
		if dataType == "" {
			dataType = map[string]string{"email_verified": "Boolean", "phone_number_verified": "Boolean", "updated_at": "Number"}[name]
		}
		schema = append(schema, identity.SchemaAttribute{Name: name, DataType: dataType})
		picked = append(picked, name)
	}
	cols, err := identity.Select(picked, schema)
	if err != nil {
		return nil, fault.Usagef("athena-ddl " + err.Error())
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
	template := location + strings.NewReplacer("{account}", "${account}", "{region}", "${region}", "{pool}", "${pool}", "{date}", "${dt}").Replace(Layout)
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
