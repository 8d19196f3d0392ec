package cognitoemu

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkPageAtPosition is one page of ListUsers (asking for email, as
// an export does) and of ListUsersInGroup at the start of a 10,000,000-user
// pool and 9,900,000 users in (ListUsersInGroup: as deep into its largest
// group, in proportion): a page's cost must not grow with its position, or
// a scale benchmark measures the emulator instead of the exporter.
func BenchmarkPageAtPosition(b *testing.B) {
	const users = 10_000_000
	pool := NewPool(PoolSpec{Users: users, Groups: 80, Seed: 1, MeanGroupsPerUser: 1.73})
	s := NewServer(Options{}, pool)
	group := pool.Groups()[0].Name
	deepInGroup := pool.GroupSize(0) * 99 / 100
	page := func(b *testing.B, op string, subject string, at int) {
		var tok bytes.Buffer
		s.appendToken(&tok, "T", op, pool.ID(), subject, at, at+1)
		token := tok.String()[len(`,"T":"`) : tok.Len()-1]
		req := &request{UserPoolId: pool.ID(), AttributesToGet: &[]string{"email"}}
		if op == "ListUsers" {
			req.PaginationToken = &token
		} else {
			req.GroupName, req.NextToken, req.AttributesToGet = &group, &token, nil
		}
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if aerr := s.handle(op, req, &buf); aerr != nil {
				b.Fatal(aerr.code, aerr.msg)
			}
		}
	}
	for _, at := range []int{0, 9_900_000} {
		b.Run(fmt.Sprintf("ListUsers/at=%d", at), func(b *testing.B) { page(b, "ListUsers", "", at) })
	}
	for _, at := range []int{0, deepInGroup} {
		b.Run(fmt.Sprintf("ListUsersInGroup/at=%d", at), func(b *testing.B) { page(b, "ListUsersInGroup", group, at) })
	}
}
