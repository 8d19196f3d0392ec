// Package sink turns membership rows into part files and a manifest: the row
// schema, the encoders, the part-rolling Writer and the manifest type. The
// destinations the parts go to live in their own packages (localdest,
// s3dest, memdest) and all pass the contract in desttest.
package sink

import "time"

// SchemaVersion changes whenever the columns or their meaning change, so that
// a checkpoint or a consumer can tell exports of different shapes apart.
const SchemaVersion = 1

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
}

// Columns are the output columns, in order.
var Columns = []string{
	"user_pool_id", "username", "user_sub", "user_status", "user_enabled",
	"user_create_date", "user_last_modified_date",
	"group_name", "group_description", "group_role_arn", "group_precedence",
	"group_creation_date", "group_last_modified_date",
	"exported_at",
}
