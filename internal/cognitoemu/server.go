package cognitoemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options add quotas and faults, for tests of the exporter's resilience.
type Options struct {
	Quotas map[string]float64 // operation → requests/second; over it: TooManyRequestsException
	// CategoryQuotas are shared by the operations of a Cognito quota
	// category (see Categories), as Cognito's per-account quotas are.
	CategoryQuotas map[string]float64
	QuotaBurst     int     // token bucket burst; default 1
	FaultRate      float64 // share of requests answered InternalErrorException (HTTP 500)
	FaultSeed      int64
	ResetRate      float64 // share of requests whose connection is closed mid-response
	DeletedShare   float64 // share of users listed by ListUsers but gone for AdminListGroupsForUser
	// RemovedShare is the share of users deleted before the export: absent
	// from every operation, so ListUsers pages come back short.
	RemovedShare float64
	Deny         map[string]string // operation → error code always answered, e.g. AccessDeniedException
}

var operations = []string{"ListUsers", "AdminListGroupsForUser", "ListGroups", "ListUsersInGroup", "DescribeUserPool", "ListUserPools",
	"AdminAddUserToGroup", "AdminRemoveUserFromGroup"}

// Categories maps each emulated operation to its Cognito quota category.
var Categories = map[string]string{
	"ListUsers":              "UserList",
	"ListUsersInGroup":       "UserList",
	"AdminListGroupsForUser": "UserResourceRead",
	"ListGroups":             "UserPoolResourceRead",
	"DescribeUserPool":       "UserPoolRead",
	"ListUserPools":          "UserPoolRead",
	// The two writes, for remediation's tests: Cognito's UserUpdate.
	"AdminAddUserToGroup":      "UserUpdate",
	"AdminRemoveUserFromGroup": "UserUpdate",
}

// DefaultQuotas are Cognito's default per-account quotas (requests per
// second) of the categories, multiplied by scale.
func DefaultQuotas(scale float64) map[string]float64 {
	return map[string]float64{"UserList": 30 * scale, "UserResourceRead": 50 * scale, "UserPoolResourceRead": 20 * scale, "UserPoolRead": 15 * scale, "UserUpdate": 25 * scale}
}

// Server serves pools over HTTP (it is an http.Handler).
type Server struct {
	opts Options
	// poolsMu guards pools: a write (AdminAddUserToGroup,
	// AdminRemoveUserFromGroup) replaces a pool by its mutation; readers
	// take the pool as it is when their request arrives.
	poolsMu  sync.RWMutex
	pools    map[string]*Pool
	order    []*Pool                    // the pools in the order given, as ListUserPools lists them
	key      [32]byte                   // signs pagination tokens; a new server rejects an old server's tokens
	limits   map[string][]*rate.Limiter // operation → its own and its category's
	calls    map[string]*atomic.Int64
	throttle map[string]*atomic.Int64

	mu  sync.Mutex
	rng *mrand.Rand
}

// NewServer serves the given pools.
func NewServer(opts Options, pools ...*Pool) *Server {
	s := &Server{opts: opts, pools: map[string]*Pool{}, limits: map[string][]*rate.Limiter{},
		calls: map[string]*atomic.Int64{}, throttle: map[string]*atomic.Int64{},
		rng: mrand.New(mrand.NewPCG(uint64(opts.FaultSeed), 0x5eed))}
	rand.Read(s.key[:])
	for _, p := range pools {
		if _, dup := s.pools[p.ID()]; !dup {
			s.order = append(s.order, p)
		}
		s.pools[p.ID()] = p
	}
	burst := max(1, opts.QuotaBurst)
	category := map[string]*rate.Limiter{}
	for c, q := range opts.CategoryQuotas {
		if q > 0 {
			category[c] = rate.NewLimiter(rate.Limit(q), burst)
		}
	}
	for _, op := range operations {
		s.calls[op], s.throttle[op] = new(atomic.Int64), new(atomic.Int64)
		if q, ok := opts.Quotas[op]; ok && q > 0 {
			s.limits[op] = append(s.limits[op], rate.NewLimiter(rate.Limit(q), burst))
		}
		if l := category[Categories[op]]; l != nil {
			s.limits[op] = append(s.limits[op], l)
		}
	}
	return s
}

// Calls is the number of requests received for op, failed ones included.
func (s *Server) Calls(op string) int64 {
	if c, ok := s.calls[op]; ok {
		return c.Load()
	}
	return 0
}

// Throttled is the number of requests for op answered TooManyRequestsException.
func (s *Server) Throttled(op string) int64 {
	if c, ok := s.throttle[op]; ok {
		return c.Load()
	}
	return 0
}

// Deleted reports whether user i of p is gone: deleted after ListUsers
// listed it (DeletedShare) or before the export (RemovedShare, or Mutate).
func (s *Server) Deleted(p *Pool, i int) bool {
	return s.opts.DeletedShare > 0 && unit(p.hash(77, i)) < s.opts.DeletedShare || s.removed(p, i)
}

// removed reports whether user i is absent from every operation: deleted
// by Mutate, or by the server's RemovedShare.
func (s *Server) removed(p *Pool, i int) bool {
	return !p.Exists(i) || s.opts.RemovedShare > 0 && unit(p.hash(78, i)) < s.opts.RemovedShare
}

// present counts the users not removed before the export.
func (s *Server) present(p *Pool) int {
	if s.opts.RemovedShare <= 0 {
		return p.liveUsers()
	}
	n := 0
	for i := range p.NumUsers() {
		if !s.removed(p, i) {
			n++
		}
	}
	return n
}

type request struct {
	UserPoolId      string  `json:"UserPoolId"`
	Username        *string `json:"Username"`
	GroupName       *string `json:"GroupName"`
	Limit           *int    `json:"Limit"`
	PaginationToken *string `json:"PaginationToken"`
	NextToken       *string `json:"NextToken"`
	MaxResults      *int    `json:"MaxResults"` // ListUserPools
	Filter          *string `json:"Filter"`
	// AttributesToGet is nil when absent; an empty list asks for no attributes.
	AttributesToGet *[]string `json:"AttributesToGet"`
}

type apiError struct {
	code, msg string
}

func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < p
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", requestID())
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	if r.Method != http.MethodPost || !ok {
		writeError(w, apiError{"UnknownOperationException", "unknown operation"})
		return
	}
	counter, known := s.calls[op]
	if !known {
		writeError(w, apiError{"UnknownOperationException", "operation " + op + " is not emulated"})
		return
	}
	counter.Add(1)
	if r.Header.Get("Authorization") == "" {
		writeError(w, apiError{"MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	for _, l := range s.limits[op] {
		if !l.Allow() {
			s.throttle[op].Add(1)
			writeError(w, apiError{"TooManyRequestsException", "Too many requests"})
			return
		}
	}
	if code, ok := s.opts.Deny[op]; ok {
		writeError(w, apiError{code, "User is not authorized to perform: cognito-idp:" + op})
		return
	}
	if s.chance(s.opts.FaultRate) {
		writeError(w, apiError{"InternalErrorException", "Internal error (injected)"})
		return
	}
	body, err := io.ReadAll(r.Body)
	var req request
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, apiError{"SerializationException", "could not parse the request body"})
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if aerr := s.handle(op, &req, buf); aerr != nil {
		writeError(w, *aerr)
		return
	}
	if s.chance(s.opts.ResetRate) {
		s.reset(w, buf.Bytes())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// reset sends half a response and closes the connection, as a dropped
// network path does.
func (s *Server) reset(w http.ResponseWriter, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	rw.Write(body[:len(body)/2])
	rw.Flush()
	conn.Close()
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeError(w http.ResponseWriter, e apiError) {
	status := http.StatusBadRequest
	if e.code == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.msg})
	w.Write(b)
}

func invalid(msg string) *apiError { return &apiError{"InvalidParameterException", msg} }

func noPool(id string) *apiError {
	return &apiError{"ResourceNotFoundException", "User pool " + id + " does not exist."}
}

// Pool is the pool id as the server holds it now: the one given to
// NewServer, or its mutation by the write operations served since.
func (s *Server) Pool(id string) (*Pool, bool) {
	s.poolsMu.RLock()
	defer s.poolsMu.RUnlock()
	p, ok := s.pools[id]
	return p, ok
}

func (s *Server) handle(op string, req *request, buf *bytes.Buffer) *apiError {
	if op == "ListUserPools" {
		return s.listUserPools(req, buf)
	}
	if req.UserPoolId == "" {
		return invalid("1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null")
	}
	if aerr := validateInput(req); aerr != nil {
		return aerr
	}
	if op == "AdminAddUserToGroup" || op == "AdminRemoveUserFromGroup" {
		return s.changeMembership(req, op == "AdminAddUserToGroup")
	}
	pool, ok := s.Pool(req.UserPoolId)
	if !ok {
		return noPool(req.UserPoolId)
	}
	limit := 60
	if req.Limit != nil {
		if *req.Limit < 0 || *req.Limit > 60 {
			return invalid("1 validation error detected: Value '" + strconv.Itoa(*req.Limit) + "' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60")
		}
		if *req.Limit > 0 {
			limit = *req.Limit
		}
	}
	switch op {
	case "DescribeUserPool":
		return s.describe(pool, s.present(pool), buf)
	case "ListUsers":
		if aerr := s.listUsers(pool, req, limit, buf); aerr != nil {
			return aerr
		}
	case "AdminListGroupsForUser":
		if req.Username == nil || *req.Username == "" {
			return invalid("1 validation error detected: Value null at 'username' failed to satisfy constraint: Member must not be null")
		}
		i, ok := pool.Lookup(*req.Username)
		if !ok || s.Deleted(pool, i) {
			return &apiError{"UserNotFoundException", "User does not exist."}
		}
		from, aerr := s.offset(op, pool.ID(), *req.Username, req.NextToken)
		if aerr != nil {
			return aerr
		}
		var gbuf [64]uint16
		groups := pool.userGroups16(i, gbuf[:0])
		to := min(from+limit, len(groups))
		buf.WriteString(`{"Groups":[`)
		for k := from; k < to; k++ {
			if k > from {
				buf.WriteByte(',')
			}
			appendGroup(buf, pool.ID(), &pool.groups[groups[k]])
		}
		buf.WriteByte(']')
		s.appendToken(buf, "NextToken", op, pool.ID(), *req.Username, to, len(groups))
	case "ListGroups":
		from, aerr := s.offset(op, pool.ID(), "", req.NextToken)
		if aerr != nil {
			return aerr
		}
		to := min(from+limit, len(pool.groups))
		buf.WriteString(`{"Groups":[`)
		for g := from; g < to; g++ {
			if g > from {
				buf.WriteByte(',')
			}
			appendGroup(buf, pool.ID(), &pool.groups[g])
		}
		buf.WriteByte(']')
		s.appendToken(buf, "NextToken", op, pool.ID(), "", to, len(pool.groups))
	case "ListUsersInGroup":
		if req.GroupName == nil || *req.GroupName == "" {
			return invalid("1 validation error detected: Value null at 'groupName' failed to satisfy constraint: Member must not be null")
		}
		g, ok := pool.groupIndex(*req.GroupName)
		if !ok {
			return &apiError{"ResourceNotFoundException", "Group not found."}
		}
		from, aerr := s.offset(op, pool.ID(), *req.GroupName, req.NextToken)
		if aerr != nil {
			return aerr
		}
		// Users deleted after listing are gone from their groups too.
		members := pool.membersOf(g)
		buf.WriteString(`{"Users":[`)
		k, n := from, 0
		var attrs []Attribute
		for ; k < len(members) && n < limit; k++ {
			i := int(members[k])
			if s.Deleted(pool, i) {
				continue
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			u := pool.User(i)
			attrs = pool.userAttributes(i, &u, attrs[:0])
			appendUser(buf, &u, attrs)
			n++
		}
		buf.WriteByte(']')
		s.appendToken(buf, "NextToken", op, pool.ID(), *req.GroupName, k, len(members))
	}
	buf.WriteByte('}')
	return nil
}

func (s *Server) describe(pool *Pool, users int, buf *bytes.Buffer) *apiError {
	buf.WriteString(`{"UserPool":{"Id":`)
	appendString(buf, pool.ID())
	buf.WriteString(`,"Name":`)
	appendString(buf, pool.Name())
	buf.WriteString(`,"Status":"Enabled","EstimatedNumberOfUsers":`)
	buf.WriteString(strconv.Itoa(users))
	buf.WriteString(`,"CreationDate":`)
	appendTime(buf, pool.created)
	buf.WriteString(`,"LastModifiedDate":`)
	appendTime(buf, pool.created)
	buf.WriteString(`,"SchemaAttributes":[`)
	for k := range schema {
		if k > 0 {
			buf.WriteByte(',')
		}
		appendSchemaAttribute(buf, &schema[k])
	}
	buf.WriteByte(']')
	if pool.spec.EmailAsUsername {
		buf.WriteString(`,"UsernameAttributes":["email"]`)
	}
	buf.WriteString(`}}`)
	return nil
}

// Tokens are opaque to clients: an offset and an HMAC over the operation,
// pool and subject they continue, so a token replayed elsewhere is refused.
func (s *Server) mac(op, pool, subject string, offset int) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(op + "\x00" + pool + "\x00" + subject + "\x00" + strconv.Itoa(offset)))
	return m.Sum(nil)[:16]
}

func (s *Server) appendToken(buf *bytes.Buffer, field, op, pool, subject string, next, total int) {
	if next >= total {
		return
	}
	raw := binary.AppendUvarint(nil, uint64(next))
	raw = append(raw, s.mac(op, pool, subject, next)...)
	buf.WriteString(`,"` + field + `":"`)
	buf.WriteString(base64.RawURLEncoding.EncodeToString(raw))
	buf.WriteByte('"')
}

func (s *Server) offset(op, pool, subject string, token *string) (int, *apiError) {
	if token == nil || *token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*token)
	if err == nil {
		off, n := binary.Uvarint(raw)
		if n > 0 && off < math.MaxInt32 && hmac.Equal(raw[n:], s.mac(op, pool, subject, int(off))) {
			return int(off), nil
		}
	}
	return 0, invalid("Invalid pagination token")
}

func appendUser(buf *bytes.Buffer, u *User, attrs []Attribute) {
	buf.WriteString(`{"Username":`)
	appendString(buf, u.Username)
	buf.WriteString(`,"Attributes":[`)
	for k, a := range attrs {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"Name":`)
		appendString(buf, a.Name)
		buf.WriteString(`,"Value":`)
		appendString(buf, a.Value)
		buf.WriteByte('}')
	}
	buf.WriteString(`],"UserCreateDate":`)
	appendTime(buf, u.Created)
	buf.WriteString(`,"UserLastModifiedDate":`)
	appendTime(buf, u.Modified)
	buf.WriteString(`,"Enabled":`)
	buf.WriteString(strconv.FormatBool(u.Enabled))
	buf.WriteString(`,"UserStatus":`)
	appendString(buf, u.Status)
	buf.WriteByte('}')
}

func appendGroup(buf *bytes.Buffer, poolID string, g *Group) {
	buf.WriteString(`{"GroupName":`)
	appendString(buf, g.Name)
	buf.WriteString(`,"UserPoolId":`)
	appendString(buf, poolID)
	if g.Description != nil {
		buf.WriteString(`,"Description":`)
		appendString(buf, *g.Description)
	}
	if g.RoleArn != nil {
		buf.WriteString(`,"RoleArn":`)
		appendString(buf, *g.RoleArn)
	}
	if g.Precedence != nil {
		buf.WriteString(`,"Precedence":`)
		buf.WriteString(strconv.Itoa(int(*g.Precedence)))
	}
	buf.WriteString(`,"LastModifiedDate":`)
	appendTime(buf, g.Modified)
	buf.WriteString(`,"CreationDate":`)
	appendTime(buf, g.Created)
	buf.WriteByte('}')
}

// appendTime writes epoch seconds with milliseconds, as Cognito does.
func appendTime(buf *bytes.Buffer, t time.Time) {
	ms := t.UnixMilli()
	buf.WriteString(strconv.FormatInt(ms/1000, 10))
	buf.WriteByte('.')
	frac := ms % 1000
	buf.WriteByte(byte('0' + frac/100))
	buf.WriteByte(byte('0' + frac/10%10))
	buf.WriteByte(byte('0' + frac%10))
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string; UTF-8 passes through as is.
func appendString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
			continue
		}
		buf.WriteString(s[start:i])
		switch c {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		default:
			buf.WriteString(`\u00`)
			buf.WriteByte(hexDigits[c>>4])
			buf.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}
