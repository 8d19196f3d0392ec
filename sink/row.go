// Package sink turns membership rows into part files and a manifest: the row
// schema, the encoders, the part-rolling Writer and the manifest type. The
// destinations the parts go to live in their own packages (localdest,
// s3dest, memdest) and all pass the contract in desttest.
package sink

import "time"

// SchemaVersion changes whenever the columns or their meaning change (2: the
// identity attribute columns after exported_at), so that
// a checkpoint or a consumer can tell exports of different shapes apart.
const SchemaVersion = 2

// Row is one (user, group) membership, or a user without groups when
// GroupName is empty. Zero times and nil pointers are absent values.
type Row struct {
	UserPoolID           string
	Username             string
	UserSub              string
	UserStatus           string
	UserEnabled          bool
	UserCreateDate       time.Time
	UserLastModifiedDate time.Time

	GroupName             string
	GroupDescription      *string
	GroupRoleArn          *string
	GroupPrecedence       *int32
	GroupCreationDate     time.Time
	GroupLastModifiedDate time.Time

	ExportedAt time.Time

	// Attrs are the identity attribute columns, in the order of the
	// writer's Attributes. Rows of one user share the slice: never modify.
	Attrs []Attr
}

// Attr is one identity attribute of a row. Unset is NULL in Parquet and
// an empty field in CSV: the user has no such attribute, or it is
// redacted.
type Attr struct {
	Value string
	Set   bool
}

// AttrType is an attribute column's type. The values of Boolean and
// Integer columns are canonical text ("true", "false", "-12"): whoever
// builds the rows parses them and keeps the unparseable ones elsewhere.
type AttrType string

const (
	AttrString  AttrType = "string"
	AttrBoolean AttrType = "boolean"
	AttrInteger AttrType = "integer"
)

// AttrColumn is an identity attribute column, after the fixed columns.
type AttrColumn struct {
	Name string
	Type AttrType
}

// ColumnsWith are the output columns with attrs after the fixed ones.
func ColumnsWith(attrs []AttrColumn) []string {
	cols := append([]string(nil), Columns...)
	for _, a := range attrs {
		cols = append(cols, a.Name)
	}
	return cols
}

// Columns are the output columns, in order.
var Columns = []string{
	"user_pool_id", "username", "user_sub", "user_status", "user_enabled",
	"user_create_date", "user_last_modified_date",
	"group_name", "group_description", "group_role_arn", "group_precedence",
	"group_creation_date", "group_last_modified_date",
	"exported_at",
}
