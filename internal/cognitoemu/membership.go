package cognitoemu

import (
	"slices"
	"time"
)

// changeMembership answers AdminAddUserToGroup (add) and
// AdminRemoveUserFromGroup: the only writes the emulator serves, so that
// the commands remediation writes can be run against it with the AWS CLI.
//
// As Cognito answers them (API reference; cognito-local and moto agree on
// the order and on what is not an error):
//   - success is HTTP 200 with an empty body;
//   - the group is looked up before the user: a missing group is
//     ResourceNotFoundException "Group not found." whatever the user;
//   - a missing user (a username or, where email is the username
//     attribute, an email alias) is UserNotFoundException;
//   - adding a member or removing a non-member changes nothing and
//     succeeds, so a remediation script may be run twice.
//
// The change replaces the served pool by its mutation (Pool.Mutate):
// requests already holding the old pool finish on it, later ones see the
// new one, as an eventually consistent service may answer.
func (s *Server) changeMembership(req *request, add bool) *apiError {
	if req.Username == nil {
		return invalid("1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null")
	}
	if req.GroupName == nil {
		return invalid("1 validation error detected: Value null at 'groupName' failed to satisfy constraint: Member must not be null")
	}
	// One write at a time: each mutates the pool the previous one left.
	s.poolsMu.Lock()
	defer s.poolsMu.Unlock()
	pool, ok := s.pools[req.UserPoolId]
	if !ok {
		return noPool(req.UserPoolId)
	}
	g, ok := pool.groupIndex(*req.GroupName)
	if !ok {
		return &apiError{"ResourceNotFoundException", "Group not found."}
	}
	i, ok := pool.Lookup(*req.Username)
	if !ok || s.Deleted(pool, i) {
		return &apiError{"UserNotFoundException", "User does not exist."}
	}
	var buf [64]uint16
	if _, member := slices.BinarySearch(pool.userGroups16(i, buf[:0]), uint16(g)); member == add {
		return nil
	}
	var m Mutations
	// The group's name, not the request's: an alias found the user, the
	// group is named exactly.
	ms := Membership{User: i, Group: pool.groups[g].Name}
	if add {
		m.AddMemberships = []Membership{ms}
	} else {
		m.RemoveMemberships = []Membership{ms}
	}
	// Membership changes date nothing; At only keeps Mutate from
	// defaulting to a time in the future of the pool's other dates.
	m.At = time.Now()
	next, err := pool.Mutate(m)
	if err != nil {
		// Checked above: a failure here is the emulator's own fault.
		return &apiError{"InternalErrorException", "emulator: " + err.Error()}
	}
	s.pools[req.UserPoolId] = next
	for k := range s.order {
		if s.order[k] == pool {
			s.order[k] = next
		}
	}
	return nil
}
