package cognitoemu

import (
	"bytes"
	"slices"
)

// filterScanBudget caps the users one filtered ListUsers page examines: a
// rare match in a large pool then answers short (even empty) pages with a
// token, as Cognito may, rather than one request scanning the whole pool.
const filterScanBudget = 50_000

var errNoSuchAttribute = invalid("One or more requested attributes do not exist.")

// listUsers answers ListUsers. Without a Filter a page covers limit users of
// the pool (removed ones leave it short); with one it scans forward from the
// token's position until limit users match, the pool ends or the scan budget
// is spent, and the token resumes the scan where it stopped. So a whole
// filtered listing examines each user once, and nothing is stored.
func (s *Server) listUsers(pool *Pool, req *request, limit int, buf *bytes.Buffer) *apiError {
	var filterText string
	if req.Filter != nil {
		filterText = *req.Filter
	}
	f, aerr := parseFilter(filterText)
	if aerr != nil {
		return aerr
	}
	var get []string
	if req.AttributesToGet != nil {
		get = *req.AttributesToGet
		for _, name := range get {
			// Cognito: attributes nobody can filter on must be set on
			// every user before AttributesToGet may name them.
			if !inSchema(name) || !isSearchable(name) && !pool.universal(name) {
				return errNoSuchAttribute
			}
		}
	}
	// Tokens are bound to the filter: the position is a position in its
	// scan. Without a filter they are the ones this emulator always gave.
	from, aerr := s.offset("ListUsers", pool.ID(), filterText, req.PaginationToken)
	if aerr != nil {
		return aerr
	}
	buf.WriteString(`{"Users":[`)
	var all, sel []Attribute
	n, i := 0, from
	for ; i < pool.NumUsers(); i++ {
		if f == nil && i >= from+limit || f != nil && (n == limit || i-from >= filterScanBudget) {
			break
		}
		if s.removed(pool, i) {
			continue
		}
		u := pool.User(i)
		if f != nil && !f.match(pool, i, &u) {
			continue
		}
		all = pool.userAttributes(i, &u, all[:0])
		attrs := all
		if req.AttributesToGet != nil {
			sel = sel[:0]
			for _, a := range all {
				if slices.Contains(get, a.Name) {
					sel = append(sel, a)
				}
			}
			// Cognito refuses the request when a user in the results
			// lacks an attribute it asks for.
			if !hasAll(sel, get) {
				return errNoSuchAttribute
			}
			attrs = sel
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		appendUser(buf, &u, attrs)
		n++
	}
	buf.WriteByte(']')
	s.appendToken(buf, "PaginationToken", "ListUsers", pool.ID(), filterText, i, pool.NumUsers())
	return nil
}

// hasAll reports whether attrs holds every name of get (which may repeat
// names).
func hasAll(attrs []Attribute, get []string) bool {
	for _, name := range get {
		if !slices.ContainsFunc(attrs, func(a Attribute) bool { return a.Name == name }) {
			return false
		}
	}
	return true
}
