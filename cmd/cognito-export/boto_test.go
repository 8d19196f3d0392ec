package main

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// These tests hold `cognito-export list-groups-for-user` against boto3's
// paginator and the AWS CLI (the Debian packages python3-boto3 and awscli),
// all three talking to the same emulator.

type botoFixture struct {
	pool     *cognitoemu.Pool
	url      string
	wide     []string // users in more than 60 groups, so that pages split at any PageSize
	ordinary string   // a user in 5..60 groups
	users    []string // the wide users, ordinary ones, one without groups and one unknown
}

func startBotoFixture(t *testing.T) botoFixture {
	t.Helper()
	boto.Require(t)
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 4000, Groups: 150, Seed: 23})
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, pool))
	t.Cleanup(hs.Close)
	f := botoFixture{pool: pool, url: hs.URL}
	var some, none int
	for i := range pool.NumUsers() {
		n := len(pool.UserGroups(i, nil))
		switch {
		case n > 60 && len(f.wide) < 2:
			f.wide = append(f.wide, pool.User(i).Username)
			continue
		case n >= 5 && n <= 60 && some < 4:
			some++
			f.ordinary = pool.User(i).Username
		case n == 0 && none < 1:
			none++
		default:
			continue
		}
		f.users = append(f.users, pool.User(i).Username)
	}
	if len(f.wide) < 2 || some < 4 || none < 1 {
		t.Fatalf("pool lacks the users the test needs: %d wide, %d ordinary, %d groupless", len(f.wide), some, none)
	}
	f.users = append(append(f.users, f.wide...), "nobody-here")
	return f
}

// pageArgs are the paginator's inputs; nil means "not given".
type pageArgs struct {
	user          string
	pageSize      *int
	maxItems      *int
	startingToken string
}

func (a pageArgs) String() string {
	s := "user=" + a.user
	if a.pageSize != nil {
		s += " PageSize=" + strconv.Itoa(*a.pageSize)
	}
	if a.maxItems != nil {
		s += " MaxItems=" + strconv.Itoa(*a.maxItems)
	}
	if a.startingToken != "" {
		s += " StartingToken=" + a.startingToken
	}
	return s
}

// cliArgs are the flags of both our command and the AWS CLI's.
func (a pageArgs) cliArgs(f botoFixture) []string {
	args := []string{"--endpoint-url", f.url, "--user-pool-id", f.pool.ID(), "--username", a.user}
	if a.pageSize != nil {
		args = append(args, "--page-size", strconv.Itoa(*a.pageSize))
	}
	if a.maxItems != nil {
		args = append(args, "--max-items", strconv.Itoa(*a.maxItems))
	}
	if a.startingToken != "" {
		args = append(args, "--starting-token", a.startingToken)
	}
	return args
}

// listed is what a paginator printed: the groups as the AWS CLI prints them
// and the resume token, or the failure.
type listed struct {
	Groups    []map[string]any `json:"Groups"`
	NextToken string           `json:"NextToken"`
	failure   string
}

func runOurs(t *testing.T, f botoFixture, a pageArgs) listed {
	t.Helper()
	r := runCLI(t, cleanEnv(creds()...), append([]string{"list-groups-for-user"}, a.cliArgs(f)...)...)
	if r.code != 0 {
		return listed{failure: lastLine(r.stderr)}
	}
	var l listed
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("%s: our output is not JSON: %v\n%s", a, err, r.stdout)
	}
	return l
}

func runBoto(t *testing.T, py *boto.Paginator, f botoFixture, a pageArgs) listed {
	t.Helper()
	c := boto.Case{Endpoint: f.url, Region: "us-east-1", Pool: f.pool.ID(), User: a.user, PageSize: a.pageSize, MaxItems: a.maxItems}
	if a.startingToken != "" {
		c.StartingToken = &a.startingToken
	}
	r := py.Run(t, c)
	if r.Error != "" {
		return listed{failure: r.Error}
	}
	l := listed{Groups: r.Groups}
	if r.NextToken != nil {
		l.NextToken = *r.NextToken
	}
	return l
}

func runAWSCLI(t *testing.T, f botoFixture, a pageArgs) listed {
	t.Helper()
	args := append([]string{"cognito-idp", "admin-list-groups-for-user", "--output", "json", "--no-cli-pager"}, a.cliArgs(f)...)
	cmd := exec.Command(boto.AWSCLI, args...)
	// TZ=UTC: the CLI prints timestamps in local time, ours in UTC.
	cmd.Env = cleanEnv(append(creds(), "TZ=UTC", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: aws: %v\n%s", a, err, stderr)
	}
	var l listed
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("%s: aws output is not JSON: %v\n%s", a, err, out)
	}
	return l
}

// envelope decodes a botocore resume token: base64 of a JSON object.
func envelope(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q is not base64: %v", token, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("token %q is not a JSON object: %v", raw, err)
	}
	return m
}

// sameListing fails t unless ours and theirs returned the same groups in the
// same order (every field) and resume tokens with the same envelope.
func sameListing(t *testing.T, what string, a pageArgs, ours, theirs listed) {
	t.Helper()
	if ours.failure != "" || theirs.failure != "" {
		if ours.failure == "" || theirs.failure == "" || !strings.Contains(ours.failure, theirs.failure) {
			t.Fatalf("%s: ours failed with %q, %s with %q", a, ours.failure, what, theirs.failure)
		}
		return
	}
	if len(ours.Groups) != len(theirs.Groups) {
		t.Fatalf("%s: ours returned %d groups, %s %d", a, len(ours.Groups), what, len(theirs.Groups))
	}
	for k := range ours.Groups {
		if !reflect.DeepEqual(ours.Groups[k], theirs.Groups[k]) {
			t.Fatalf("%s: group %d differs:\nours:  %v\n%s: %v", a, k, ours.Groups[k], what, theirs.Groups[k])
		}
	}
	if (ours.NextToken == "") != (theirs.NextToken == "") {
		t.Fatalf("%s: NextToken ours %q, %s %q", a, ours.NextToken, what, theirs.NextToken)
	}
	if ours.NextToken == "" {
		return
	}
	if eo, et := envelope(t, ours.NextToken), envelope(t, theirs.NextToken); !reflect.DeepEqual(eo, et) {
		t.Fatalf("%s: token envelopes differ:\nours:  %v\n%s: %v", a, eo, what, et)
	}
	// Same envelope and the same encoder: byte for byte the same token.
	if ours.NextToken != theirs.NextToken {
		t.Fatalf("%s: same envelope, different tokens: ours %q, %s %q", a, ours.NextToken, what, theirs.NextToken)
	}
}

func randomArgs(rng *rand.Rand, user string, token string) pageArgs {
	a := pageArgs{user: user, startingToken: token}
	switch r := rng.IntN(10); {
	case r == 0: // the service's default page size
	case r < 7:
		n := 1 + rng.IntN(12)
		a.pageSize = &n
	default:
		n := 1 + rng.IntN(60)
		a.pageSize = &n
	}
	if rng.IntN(8) > 0 {
		n := 1 + rng.IntN(15)
		if rng.IntN(4) == 0 {
			n = 1 + rng.IntN(160)
		}
		a.maxItems = &n
	}
	return a
}

// TestListGroupsForUserMatchesBoto3 runs hundreds of random resume chains.
// Each hop resumes ours from boto3's last token and boto3 from ours, with
// fresh random PageSize and MaxItems (a token does not bind them), and both
// must print the same groups and the same token.
func TestListGroupsForUserMatchesBoto3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: hundreds of runs of the binary; make test runs it")
	}
	f := startBotoFixture(t)
	py := boto.StartPaginator(t)
	seed := uint64(8)
	if s, err := strconv.ParseUint(os.Getenv("BOTO_PARITY_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (set BOTO_PARITY_SEED to replay another)", seed)
	rng := rand.New(rand.NewPCG(seed, 0xb070))
	cases, resumes, cuts := 0, 0, 0
	for cases < 320 {
		user := f.users[rng.IntN(len(f.users))]
		if rng.IntN(2) == 0 {
			user = f.wide[rng.IntN(len(f.wide))]
		}
		oursTok, botoTok := "", ""
		for hop := 0; hop < 40; hop++ {
			a := randomArgs(rng, user, botoTok)
			ours := runOurs(t, f, a)
			b := a
			b.startingToken = oursTok
			theirs := runBoto(t, py, f, b)
			sameListing(t, "boto3", a, ours, theirs)
			cases++
			if a.startingToken != "" {
				resumes++
			}
			if ours.NextToken == "" {
				break
			}
			if _, ok := envelope(t, ours.NextToken)["boto_truncate_amount"]; ok {
				cuts++
			}
			oursTok, botoTok = ours.NextToken, theirs.NextToken
		}
	}
	t.Logf("%d cases, %d resumed from the other side's token, %d tokens cut inside a page", cases, resumes, cuts)
	if resumes < 100 || cuts < 50 {
		t.Fatalf("too few resumes (%d) or mid-page cuts (%d) to mean anything", resumes, cuts)
	}
}

// TestBotocoreTruncationAfterResume checks a claim made while the paginator
// was written: that botocore keeps adding the starting boto_truncate_amount
// to the token it prints when a resumed run is cut in a later page. The
// installed botocore does not: botocore/paginate.py resets the starting
// truncation to 0 once past the first page, so the token's amount counts
// from the start of its own page, and ours does the same. If a future
// botocore changed that, this test says so instead of the parity test
// failing on a random case.
func TestBotocoreTruncationAfterResume(t *testing.T) {
	f := startBotoFixture(t)
	py := boto.StartPaginator(t)
	user, want := f.wide[0], f.pool.UserGroups(mustLookup(t, f.pool, f.wide[0]), nil)
	ten, three, fifteen := 10, 3, 15
	first := runBoto(t, py, f, pageArgs{user: user, pageSize: &ten, maxItems: &three})
	if got := envelope(t, first.NextToken); got["NextToken"] != nil || got["boto_truncate_amount"] != 3.0 {
		t.Fatalf("first cut: envelope %v, want NextToken null and boto_truncate_amount 3", got)
	}
	// Resume 3 into page 1 (7 groups left there), then 8 more from page 2:
	// the cut is 8 into page 2. 11 (3 + 8) would be the claimed bug.
	resumed := pageArgs{user: user, pageSize: &ten, maxItems: &fifteen, startingToken: first.NextToken}
	theirs := runBoto(t, py, f, resumed)
	env := envelope(t, theirs.NextToken)
	if env["boto_truncate_amount"] != 8.0 || env["NextToken"] == nil {
		t.Fatalf("botocore's token after a resume: %v, want the page-2 service token with boto_truncate_amount 8", env)
	}
	ours := runOurs(t, f, resumed)
	sameListing(t, "boto3", resumed, ours, theirs)
	for k, g := range theirs.Groups {
		if g["GroupName"] != f.pool.Groups()[want[3+k]].Name {
			t.Fatalf("resumed group %d = %v, want %q", k, g["GroupName"], f.pool.Groups()[want[3+k]].Name)
		}
	}
	// And the token resumes at group 18 in both.
	next := pageArgs{user: user, pageSize: &ten, maxItems: &three, startingToken: theirs.NextToken}
	again := runOurs(t, f, next)
	sameListing(t, "boto3", next, again, runBoto(t, py, f, next))
	if again.Groups[0]["GroupName"] != f.pool.Groups()[want[18]].Name {
		t.Fatalf("after the second cut: first group %v, want %q", again.Groups[0]["GroupName"], f.pool.Groups()[want[18]].Name)
	}
}

func mustLookup(t *testing.T, pool *cognitoemu.Pool, user string) int {
	t.Helper()
	i, ok := pool.Lookup(user)
	if !ok {
		t.Fatalf("no user %q", user)
	}
	return i
}

// TestAWSCLIAcceptsOurStartingToken walks resume chains that alternate
// between our command and the AWS CLI: each hop of the CLI starts from our
// token and must print exactly what ours prints for the same flags.
func TestAWSCLIAcceptsOurStartingToken(t *testing.T) {
	f := startBotoFixture(t)
	for _, c := range []struct {
		user               string
		pageSize, maxItems int
	}{{f.wide[0], 7, 10}, {f.wide[1], 25, 31}, {f.ordinary, 2, 3}} {
		want := f.pool.UserGroups(mustLookup(t, f.pool, c.user), nil)
		var names []any
		token := ""
		for hop := 0; ; hop++ {
			a := pageArgs{user: c.user, pageSize: &c.pageSize, maxItems: &c.maxItems, startingToken: token}
			ours := runOurs(t, f, a)
			if ours.failure != "" {
				t.Fatalf("%s: %s", a, ours.failure)
			}
			if hop%2 == 1 {
				// The CLI resumes from the token our previous hop printed.
				cli := runAWSCLI(t, f, a)
				sameListing(t, "aws", a, ours, cli)
			}
			for _, g := range ours.Groups {
				names = append(names, g["GroupName"])
			}
			if token = ours.NextToken; token == "" {
				break
			}
			if hop > len(want) {
				t.Fatalf("%s: resume chain does not end", a)
			}
		}
		if len(names) != len(want) {
			t.Fatalf("user %s: %d groups over the chain, want %d", c.user, len(names), len(want))
		}
		for k, gi := range want {
			if names[k] != f.pool.Groups()[gi].Name {
				t.Fatalf("user %s: group %d = %v, want %q", c.user, k, names[k], f.pool.Groups()[gi].Name)
			}
		}
	}
}
