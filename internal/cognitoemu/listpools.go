package cognitoemu

import (
	"bytes"
	"strconv"
)

// listUserPools answers ListUserPools: the server's pools (one account in
// one region) in a stable order, MaxResults (1..60, required) at a time.
func (s *Server) listUserPools(req *request, buf *bytes.Buffer) *apiError {
	if aerr := validateInput(req); aerr != nil {
		return aerr
	}
	switch {
	case req.MaxResults == nil:
		return invalid("1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null")
	case *req.MaxResults < 1:
		return invalid("1 validation error detected: Value '" + strconv.Itoa(*req.MaxResults) + "' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
	case *req.MaxResults > 60:
		return invalid("1 validation error detected: Value '" + strconv.Itoa(*req.MaxResults) + "' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60")
	}
	from, aerr := s.offset("ListUserPools", "", "", req.NextToken)
	if aerr != nil {
		return aerr
	}
	s.poolsMu.RLock() // a write may replace a pool of the order
	defer s.poolsMu.RUnlock()
	to := min(from+*req.MaxResults, len(s.order))
	buf.WriteString(`{"UserPools":[`)
	for k := from; k < to; k++ {
		if k > from {
			buf.WriteByte(',')
		}
		p := s.order[k]
		buf.WriteString(`{"Id":`)
		appendString(buf, p.ID())
		buf.WriteString(`,"Name":`)
		appendString(buf, p.Name())
		buf.WriteString(`,"LambdaConfig":{},"LastModifiedDate":`)
		appendTime(buf, p.created)
		buf.WriteString(`,"CreationDate":`)
		appendTime(buf, p.created)
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
	s.appendToken(buf, "NextToken", "ListUserPools", "", "", to, len(s.order))
	buf.WriteByte('}')
	return nil
}
