package cognitoemu

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OrgSpec describes an organisation: several accounts, each with its own
// pools in its own regions, its own quotas and its own roles.
//
// An Org is one http.Handler for both services. A request with an
// X-Amz-Target header is Cognito (AWS JSON 1.1); any other is STS (the query
// protocol, a form POST). The account is the one the SigV4 access key id of
// the Authorization header belongs to, the region that of its credential
// scope (Credential=AKID/date/region/service/aws4_request). So a test points
// both services at the same URL:
//
//	AWS_ENDPOINT_URL_STS=<url>
//	AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=<url>   (or AWS_ENDPOINT_URL=<url>)
//
// and signs with AccountKeys(id), or with the temporary credentials the
// emulated AssumeRole hands out. Signatures are not verified: the access key
// id (and, for temporary credentials, the session token) identify the caller.
type OrgSpec struct {
	Accounts []AccountSpec
	// CredentialTTL is the lifetime of the credentials AssumeRole issues,
	// whatever DurationSeconds asks for; it may be below STS's 900 s
	// minimum, so that tests see credentials expire. Zero: DurationSeconds
	// (default 3600 s), as STS does.
	CredentialTTL time.Duration
}

// AccountSpec is one account of the organisation.
type AccountSpec struct {
	ID string // 12 digits
	// Regions holds the pools of each region; a pool id must begin with its
	// region and an underscore (eu-west-1_Abc). A region not listed has no
	// pools, but answers (ListUserPools is empty there).
	Regions map[string][]PoolSpec
	// Options apply in each region of the account on its own: Cognito's
	// quotas are per account and region, so every (account, region) has
	// its own token buckets, counters and faults.
	Options Options
	Roles   []RoleSpec
}

// RoleSpec is an IAM role of an account that AssumeRole can assume.
type RoleSpec struct {
	Name string // the role's ARN is arn:aws:iam::<account>:role/<Name>
	// TrustedAccounts may assume the role (its trust policy's principals).
	TrustedAccounts []string
	// ExternalID, when set, must be given by the caller (sts:ExternalId).
	ExternalID string
	// MaxSessionDuration bounds DurationSeconds; default one hour, as IAM.
	MaxSessionDuration time.Duration
}

// Session is one set of temporary credentials AssumeRole issued.
type Session struct {
	AccessKeyID     string
	Account         string // the account of the role, which the credentials act in
	RoleArn         string
	RoleSessionName string
	ExternalID      string
	Caller          string // the ARN of the principal that assumed the role
	Expiration      time.Time

	secret, token string
}

// Org serves an organisation's accounts over HTTP (it is an http.Handler).
type Org struct {
	spec     OrgSpec
	accounts map[string]*AccountSpec

	mu       sync.Mutex
	servers  map[[2]string]*Server // (account, region)
	sessions map[string]*Session   // access key id → session
	issued   []*Session

	expired atomic.Int64 // requests refused for expired credentials
	now     func() time.Time
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// NewOrg builds the organisation of spec; the pools are generated now.
func NewOrg(spec OrgSpec) (*Org, error) {
	o := &Org{spec: spec, accounts: map[string]*AccountSpec{}, servers: map[[2]string]*Server{},
		sessions: map[string]*Session{}, now: time.Now}
	for k := range spec.Accounts {
		a := &spec.Accounts[k]
		if !accountIDPattern.MatchString(a.ID) {
			return nil, fmt.Errorf("account id %q: want 12 digits", a.ID)
		}
		if _, dup := o.accounts[a.ID]; dup {
			return nil, fmt.Errorf("account %s given twice", a.ID)
		}
		o.accounts[a.ID] = a
		for region, specs := range a.Regions {
			pools := make([]*Pool, len(specs))
			for i, ps := range specs {
				if !strings.HasPrefix(ps.ID, region+"_") {
					return nil, fmt.Errorf("account %s: pool %q is not of region %s", a.ID, ps.ID, region)
				}
				pools[i] = NewPool(ps)
			}
			o.servers[[2]string{a.ID, region}] = NewServer(a.Options, pools...)
		}
	}
	return o, nil
}

// AccountKeys are the long-term access key id and secret of an account (of
// an IAM user of it): AKIA, the account id, EMUL.
func AccountKeys(account string) (accessKeyID, secretAccessKey string) {
	return "AKIA" + account + "EMUL", "emulated-secret-of-" + account
}

// Server is the Cognito of one account in one region, for its counters
// (Calls, Throttled); nil if the account is unknown.
func (o *Org) Server(account, region string) *Server {
	if o.accounts[account] == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	key := [2]string{account, region}
	s := o.servers[key]
	if s == nil {
		s = NewServer(o.accounts[account].Options)
		o.servers[key] = s
	}
	return s
}

// Sessions are the temporary credentials issued so far, oldest first.
func (o *Org) Sessions() []Session {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Session, len(o.issued))
	for k, s := range o.issued {
		out[k] = *s
	}
	return out
}

// Expired is the number of requests refused because their temporary
// credentials had expired.
func (o *Org) Expired() int64 { return o.expired.Load() }

// Transport hands requests straight to the handler, as Server.Transport does.
func (o *Org) Transport() http.RoundTripper { return direct{o} }

// principal is the identity a request is signed as.
type principal struct {
	account, arn string
}

// Why the credentials of a request are refused.
const (
	credUnknown = iota + 1
	credExpired
)

// identify maps an access key id (and session token) to its principal.
func (o *Org) identify(akid, token string) (principal, int) {
	if strings.HasPrefix(akid, "AKIA") && strings.HasSuffix(akid, "EMUL") && len(akid) == 20 {
		if a := akid[4:16]; o.accounts[a] != nil {
			return principal{a, "arn:aws:iam::" + a + ":user/emulated"}, 0
		}
		return principal{}, credUnknown
	}
	o.mu.Lock()
	s := o.sessions[akid]
	o.mu.Unlock()
	if s == nil || token != s.token {
		return principal{}, credUnknown
	}
	if !o.now().Before(s.Expiration) {
		o.expired.Add(1)
		return principal{}, credExpired
	}
	name := s.RoleArn[strings.LastIndexByte(s.RoleArn, '/')+1:]
	return principal{s.Account, "arn:aws:sts::" + s.Account + ":assumed-role/" + name + "/" + s.RoleSessionName}, 0
}

// credentialScope reads the access key id and region of a SigV4
// Authorization header.
func credentialScope(auth string) (akid, region string, ok bool) {
	_, rest, found := strings.Cut(auth, "Credential=")
	if !found {
		return "", "", false
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sts := r.Header.Get("X-Amz-Target") == ""
	akid, region, ok := credentialScope(r.Header.Get("Authorization"))
	if !ok {
		if sts {
			writeSTSError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		} else {
			w.Header().Set("X-Amzn-Requestid", requestID())
			writeError(w, apiError{"MissingAuthenticationTokenException", "Missing Authentication Token"})
		}
		return
	}
	p, refused := o.identify(akid, r.Header.Get("X-Amz-Security-Token"))
	switch {
	case refused == credUnknown && sts:
		writeSTSError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	case refused == credExpired && sts:
		writeSTSError(w, http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
		return
	case refused != 0:
		w.Header().Set("X-Amzn-Requestid", requestID())
		if refused == credExpired {
			writeError(w, apiError{"ExpiredTokenException", "The security token included in the request is expired"})
		} else {
			writeError(w, apiError{"UnrecognizedClientException", "The security token included in the request is invalid."})
		}
		return
	}
	if sts {
		o.serveSTS(w, r, p)
		return
	}
	o.Server(p.account, region).ServeHTTP(w, r)
}

// newSession issues temporary credentials for a role.
func (o *Org) newSession(s *Session) {
	var b [48]byte
	rand.Read(b[:])
	s.AccessKeyID = "ASIA" + base32.StdEncoding.EncodeToString(b[:10])
	s.secret = base64.StdEncoding.EncodeToString(b[10:40])
	s.token = "IQoJb3JpZ2luX2VtdWxhdGVk" + base64.StdEncoding.EncodeToString(b[:])
	o.mu.Lock()
	o.sessions[s.AccessKeyID] = s
	o.issued = append(o.issued, s)
	o.mu.Unlock()
}
