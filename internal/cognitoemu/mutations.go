package cognitoemu

import "time"

// DefaultMutationTime is when mutations happen unless Mutations.At says
// otherwise: after every date the generator gives, so changed users and
// groups get a later last-modified date, as in Cognito.
var DefaultMutationTime = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// Mutations are changes to a pool between two exports. Mutate applies them
// in the order of the fields, so a later field sees the earlier ones: a
// membership may name a group added or a user added by the same Mutations.
// Existing users are named by index (Pool.User), groups by name, because a
// name stays the same when an earlier group is deleted and the indexes close
// up. Users added get the indexes NumUsers(), NumUsers()+1, ... in order.
// Every change must make sense: deleting or changing a user or group that is
// not there, adding a membership that exists or removing one that does not
// is an error, so that a test's expectations cannot be silently wrong.
// Changing a value to the one it has is allowed (and no change to report).
type Mutations struct {
	At time.Time // when they happen (created and last-modified dates); zero: DefaultMutationTime

	DeleteGroups []string // memberships to them vanish
	AddGroups    []NewGroup
	ChangeGroups []GroupChange

	DeleteUsers []int
	AddUsers    []NewUser
	// RecreateUsers deletes each user and creates it again under the same
	// username: a new sub and create date, the same profile (attributes,
	// status, enabled), the given groups. Not for pools whose username is
	// the email: there the username is the sub, so delete and add instead.
	RecreateUsers []Recreate
	DisableUsers  []int
	EnableUsers   []int
	SetStatus     []StatusChange
	SetAttributes []AttributeChange

	RemoveMemberships []Membership
	AddMemberships    []Membership
}

// NewGroup is a group to add; Members are user indexes (users added by the
// same Mutations included).
type NewGroup struct {
	Name                 string
	Description, RoleArn *string
	Precedence           *int32
	Members              []int
}

// GroupChange sets (non-nil) or removes (Remove…) a group's optional fields.
type GroupChange struct {
	Group                                              string
	Description, RoleArn                               *string
	Precedence                                         *int32
	RemoveDescription, RemoveRoleArn, RemovePrecedence bool
}

// NewUser is a user to add. Its sub and profile are generated from its
// index, fresh in the pool, and so is its username unless Username names
// it (a test's hostile or unusual name: it must be a username Cognito
// accepts, and not one that exists); it is created at Mutations.At.
type NewUser struct {
	Username string
	Groups   []string
}

// Recreate names a user to re-create and the groups it is in afterwards.
type Recreate struct {
	User   int
	Groups []string
}

// StatusChange sets a user's status (CONFIRMED, UNCONFIRMED,
// FORCE_CHANGE_PASSWORD, RESET_REQUIRED, EXTERNAL_PROVIDER, ...). The
// user's email_verified keeps its value unless SetAttributes changes it,
// although the generator derives it from the status.
type StatusChange struct {
	User   int
	Status string
}

// AttributeChange sets a user attribute to Value, or removes it. Name is a
// Cognito attribute name of the pool's schema (email, name,
// email_verified, custom:department, ...), never sub.
type AttributeChange struct {
	User   int
	Name   string
	Value  string
	Remove bool
}

// Membership is a (user index, group name) pair.
type Membership struct {
	User  int
	Group string
}

var userStatuses = []string{"UNCONFIRMED", "CONFIRMED", "ARCHIVED", "COMPROMISED", "UNKNOWN", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", "EXTERNAL_PROVIDER"}
