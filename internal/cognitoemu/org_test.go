package cognitoemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/internal/boto"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

const (
	mgmt    = "111111111111" // the account the exporter runs in
	member  = "222222222222" // an account it reads through a role
	outside = "333333333333" // an account the role does not trust
	runID   = "run-17a4"
)

// org is a three-account organisation: the member account has pools in two
// regions and a role the management account may assume with an external id.
func org(t *testing.T, ttl time.Duration, opts cognitoemu.Options) (*cognitoemu.Org, string) {
	t.Helper()
	o, err := cognitoemu.NewOrg(cognitoemu.OrgSpec{
		CredentialTTL: ttl,
		Accounts: []cognitoemu.AccountSpec{
			{ID: mgmt, Options: opts, Regions: map[string][]cognitoemu.PoolSpec{
				"eu-west-1": {{ID: "eu-west-1_MgmtPool", Users: 5, Groups: 2, Seed: 1}},
			}},
			{ID: member, Options: opts, Regions: map[string][]cognitoemu.PoolSpec{
				"eu-west-1": {
					{ID: "eu-west-1_Member1", Name: "staff", Users: 30, Groups: 4, Seed: 2},
					{ID: "eu-west-1_Member2", Name: "customers", Users: 7, Groups: 1, Seed: 3},
				},
				"us-east-1": {{ID: "us-east-1_Member3", Users: 4, Seed: 4}},
			}, Roles: []cognitoemu.RoleSpec{
				{Name: "cognito-export-reader", TrustedAccounts: []string{mgmt}, ExternalID: "ext-17"},
			}},
			{ID: outside, Options: opts},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(o)
	t.Cleanup(hs.Close)
	return o, hs.URL
}

func roleArn(account, name string) string { return "arn:aws:iam::" + account + ":role/" + name }

func staticKeys(account string) aws.CredentialsProvider {
	id, secret := cognitoemu.AccountKeys(account)
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}

func cognitoClient(url, region string, creds aws.CredentialsProvider) *cip.Client {
	return cip.New(cip.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
}

// assumeRole is the SDK's own assume-role provider through the emulated STS.
func assumeRole(url, caller, arn, externalID string) *stscreds.AssumeRoleProvider {
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: staticKeys(caller)})
	return stscreds.NewAssumeRoleProvider(client, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "cognito-export-" + runID
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
}

func poolIDs(t *testing.T, c *cip.Client, maxResults int32) []string {
	t.Helper()
	var ids []string
	p := cip.NewListUserPoolsPaginator(c, &cip.ListUserPoolsInput{MaxResults: aws.Int32(maxResults)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(out.UserPools) > int(maxResults) {
			t.Fatalf("%d pools on a page of %d", len(out.UserPools), maxResults)
		}
		for _, u := range out.UserPools {
			ids = append(ids, aws.ToString(u.Id))
		}
	}
	return ids
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestAssumeRoleThroughSharedConfig takes the path a user's configuration
// takes: a profile with role_arn and source_profile, AWS_ENDPOINT_URL_STS
// and the Cognito endpoint pointed at the emulator, config.LoadDefaultConfig.
func TestAssumeRoleThroughSharedConfig(t *testing.T) {
	o, url := org(t, 0, cognitoemu.Options{})
	dir := t.TempDir()
	id, secret := cognitoemu.AccountKeys(mgmt)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("AWS_CONFIG_FILE", write("config", "[profile base]\nregion = eu-west-1\n\n[profile reader]\nregion = eu-west-1\nsource_profile = base\n"+
		"role_arn = "+roleArn(member, "cognito-export-reader")+"\nexternal_id = ext-17\nrole_session_name = cognito-export-"+runID+"\n"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", write("credentials", "[base]\naws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n"))
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_STS", url)
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", url)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigProfile("reader"))
	if err != nil {
		t.Fatal(err)
	}
	c := cip.NewFromConfig(cfg)
	if got, want := poolIDs(t, c, 60), []string{"eu-west-1_Member1", "eu-west-1_Member2"}; !slices.Equal(got, want) {
		t.Fatalf("pools of the member account in eu-west-1: %v, want %v", got, want)
	}
	out, err := c.ListUsers(context.Background(), &cip.ListUsersInput{UserPoolId: aws.String("eu-west-1_Member2")})
	if err != nil || len(out.Users) != 7 {
		t.Fatalf("ListUsers: %d users, %v", len(out.Users), err)
	}
	// The management account's pool and the member's pool of another region
	// are not found with these credentials in this region.
	var notFound *types.ResourceNotFoundException
	for _, pool := range []string{"eu-west-1_MgmtPool", "us-east-1_Member3"} {
		if _, err := c.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}); !errors.As(err, &notFound) {
			t.Errorf("DescribeUserPool %s: err = %v, want ResourceNotFoundException", pool, err)
		}
	}
	sessions := o.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions issued, want 1", len(sessions))
	}
	s := sessions[0]
	if s.Account != member || !strings.Contains(s.RoleSessionName, runID) || s.ExternalID != "ext-17" ||
		s.Caller != "arn:aws:iam::"+mgmt+":user/emulated" || !strings.HasPrefix(s.AccessKeyID, "ASIA") {
		t.Fatalf("session %+v", s)
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	o, url := org(t, 0, cognitoemu.Options{})
	ctx := context.Background()
	for _, c := range []struct {
		name, caller, arn, external string
	}{
		{"untrusted account", outside, roleArn(member, "cognito-export-reader"), "ext-17"},
		{"wrong external id", mgmt, roleArn(member, "cognito-export-reader"), "ext-99"},
		{"no external id", mgmt, roleArn(member, "cognito-export-reader"), ""},
		{"no such role", mgmt, roleArn(member, "admin"), "ext-17"},
		{"no such account", mgmt, roleArn("444444444444", "cognito-export-reader"), "ext-17"},
	} {
		_, err := assumeRole(url, c.caller, c.arn, c.external).Retrieve(ctx)
		if code := errorCode(err); code != "AccessDenied" {
			t.Errorf("%s: err = %v, want AccessDenied", c.name, err)
		}
		// Through a Cognito client as a run would see it.
		cc := cognitoClient(url, "eu-west-1", aws.NewCredentialsCache(assumeRole(url, c.caller, c.arn, c.external)))
		if _, err := cc.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("%s: ListUserPools err = %v, want AccessDenied", c.name, err)
		}
	}
	if n := len(o.Sessions()); n != 0 {
		t.Fatalf("%d sessions issued on refusals", n)
	}
	// A key no account has.
	unknown := credentials.NewStaticCredentialsProvider("AKIA999999999999EMUL", "x", "")
	if _, err := cognitoClient(url, "eu-west-1", unknown).ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1)}); errorCode(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key: err = %v", err)
	}
	stsUnknown := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: unknown})
	if _, err := stscreds.NewAssumeRoleProvider(stsUnknown, roleArn(member, "cognito-export-reader")).Retrieve(ctx); errorCode(err) != "InvalidClientTokenId" {
		t.Fatalf("unknown key at STS: err = %v", err)
	}
}

// TestExpiredCredentialsAreRefused signs with temporary credentials after
// their expiry, as a client without a refreshing cache would.
func TestExpiredCredentialsAreRefused(t *testing.T) {
	o, url := org(t, time.Second, cognitoemu.Options{})
	ctx := context.Background()
	creds, err := assumeRole(url, mgmt, roleArn(member, "cognito-export-reader"), "ext-17").Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := cognitoClient(url, "eu-west-1", credentials.StaticCredentialsProvider{Value: creds})
	if _, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1)}); err != nil {
		t.Fatalf("fresh credentials: %v", err)
	}
	time.Sleep(time.Until(creds.Expires) + 50*time.Millisecond)
	_, err = c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1)})
	if errorCode(err) != "ExpiredTokenException" || o.Expired() == 0 {
		t.Fatalf("expired credentials: err = %v (%d refused)", err, o.Expired())
	}
	// The right key with another session token is not those credentials.
	forged := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "forged")
	if _, err := cognitoClient(url, "eu-west-1", forged).ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(1)}); errorCode(err) != "UnrecognizedClientException" {
		t.Fatalf("forged token: err = %v", err)
	}
}

// TestCredentialsRefreshedDuringALongRun: two-second credentials, refreshed
// by the SDK's cache ahead of expiry, across several lifetimes, without a
// failed call and without a request the emulator refused as expired.
func TestCredentialsRefreshedDuringALongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("spans several credential lifetimes")
	}
	o, url := org(t, 2*time.Second, cognitoemu.Options{})
	ctx := context.Background()
	cache := aws.NewCredentialsCache(assumeRole(url, mgmt, roleArn(member, "cognito-export-reader"), "ext-17"),
		func(opts *aws.CredentialsCacheOptions) { opts.ExpiryWindow = time.Second })
	// The SDK's own retryer stays on: it rides out loopback hiccups, and an
	// ExpiredTokenException is not retryable, so it would fail the test.
	c := cip.New(cip.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: cache})
	calls := 0
	for len(o.Sessions()) < 4 {
		if calls > 2000 {
			t.Fatalf("%d calls and only %d sessions", calls, len(o.Sessions()))
		}
		var token *string
		for {
			out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String("eu-west-1_Member1"), Limit: aws.Int32(10), PaginationToken: token})
			calls++
			if err != nil {
				t.Fatalf("call %d (session %d): %v", calls, len(o.Sessions()), err)
			}
			if token = out.PaginationToken; token == nil {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o.Expired() != 0 {
		t.Fatalf("%d requests signed with expired credentials", o.Expired())
	}
	t.Logf("%d calls over %d sessions", calls, len(o.Sessions()))
}

func TestListUserPoolsPaging(t *testing.T) {
	var specs []cognitoemu.PoolSpec
	for k := range 5 {
		specs = append(specs, cognitoemu.PoolSpec{ID: "ap-southeast-2_Pool" + string(rune('A'+k)), Users: 1, Seed: int64(k)})
	}
	o, err := cognitoemu.NewOrg(cognitoemu.OrgSpec{Accounts: []cognitoemu.AccountSpec{{ID: mgmt, Regions: map[string][]cognitoemu.PoolSpec{"ap-southeast-2": specs}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(o)
	t.Cleanup(hs.Close)
	c := cognitoClient(hs.URL, "ap-southeast-2", staticKeys(mgmt))
	ctx := context.Background()
	var pages [][]string
	var token *string
	for {
		out, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		var page []string
		for _, p := range out.UserPools {
			page = append(page, aws.ToString(p.Id))
			if aws.ToString(p.Name) != "emulated pool" || p.CreationDate == nil || p.LastModifiedDate == nil || p.LambdaConfig == nil {
				t.Fatalf("pool %+v", p)
			}
		}
		pages = append(pages, page)
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(pages) != 3 || len(pages[0]) != 2 || len(pages[1]) != 2 || len(pages[2]) != 1 ||
		!slices.Equal(slices.Concat(pages...), []string{"ap-southeast-2_PoolA", "ap-southeast-2_PoolB", "ap-southeast-2_PoolC", "ap-southeast-2_PoolD", "ap-southeast-2_PoolE"}) {
		t.Fatalf("pages %v", pages)
	}
	// Another region of the account has no pools; a bad MaxResults or token is refused.
	if ids := poolIDs(t, cognitoClient(hs.URL, "eu-west-1", staticKeys(mgmt)), 60); len(ids) != 0 {
		t.Fatalf("eu-west-1: %v", ids)
	}
	var invalid *types.InvalidParameterException
	for _, in := range []*cip.ListUserPoolsInput{
		{MaxResults: aws.Int32(0)}, {MaxResults: aws.Int32(61)}, {MaxResults: aws.Int32(2), NextToken: aws.String("bm90LWEtdG9rZW4")},
	} {
		if _, err := c.ListUserPools(ctx, in); !errors.As(err, &invalid) {
			t.Errorf("MaxResults %d: err = %v, want InvalidParameterException", aws.ToInt32(in.MaxResults), err)
		}
	}
	if _, err := cognitoemu.NewOrg(cognitoemu.OrgSpec{Accounts: []cognitoemu.AccountSpec{{ID: mgmt, Regions: map[string][]cognitoemu.PoolSpec{"eu-west-1": {{ID: "us-east-1_Wrong"}}}}}}); err == nil {
		t.Fatal("a pool id of another region was accepted")
	}
}

// TestQuotasPerAccountAndRegion: each (account, region) has its own bucket.
// The buckets hardly refill (one token in 1000 s), so the counts do not
// depend on how fast the calls go.
func TestQuotasPerAccountAndRegion(t *testing.T) {
	opts := cognitoemu.Options{CategoryQuotas: map[string]float64{"UserPoolRead": 0.001}, QuotaBurst: 5}
	o, url := org(t, 0, opts)
	ctx := context.Background()
	roleCreds := aws.NewCredentialsCache(assumeRole(url, mgmt, roleArn(member, "cognito-export-reader"), "ext-17"))
	for _, c := range []struct {
		account, region, pool string
		creds                 aws.CredentialsProvider
	}{
		{mgmt, "eu-west-1", "eu-west-1_MgmtPool", staticKeys(mgmt)},
		{member, "eu-west-1", "eu-west-1_Member1", roleCreds},
		{member, "us-east-1", "us-east-1_Member3", roleCreds},
	} {
		// In process, without retries: every answer is seen as sent.
		cc := cip.New(cip.Options{Region: c.region, BaseEndpoint: aws.String(url), Credentials: c.creds, Retryer: aws.NopRetryer{},
			HTTPClient: &http.Client{Transport: o.Transport()}})
		ok, throttled := 0, 0
		for k := range 8 {
			var err error
			if k%2 == 0 {
				_, err = cc.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(c.pool)})
			} else {
				_, err = cc.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
			}
			var tooMany *types.TooManyRequestsException
			switch {
			case err == nil:
				ok++
			case errors.As(err, &tooMany):
				throttled++
			default:
				t.Fatalf("%s %s: %v", c.account, c.region, err)
			}
		}
		s := o.Server(c.account, c.region)
		if ok != 5 || throttled != 3 || s.Throttled("DescribeUserPool")+s.Throttled("ListUserPools") != 3 {
			t.Fatalf("%s %s: %d ok, %d throttled (server: %d, %d), want the whole burst of 5", c.account, c.region, ok, throttled,
				s.Throttled("DescribeUserPool"), s.Throttled("ListUserPools"))
		}
	}
}

// TestAssumeRoleWithBotocore has botocore's query-protocol parser read the
// emulated STS: the success and the AccessDenied of an untrusted caller.
func TestAssumeRoleWithBotocore(t *testing.T) {
	boto.Require(t)
	_, url := org(t, 0, cognitoemu.Options{})
	script := `
import json, sys, boto3, botocore.exceptions
url, arn, out = sys.argv[1], sys.argv[2], []
for key, secret, ext in json.loads(sys.argv[3]):
    c = boto3.client("sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
    try:
        r = c.assume_role(RoleArn=arn, RoleSessionName="botocore-` + runID + `", ExternalId=ext)
        out.append({"key": r["Credentials"]["AccessKeyId"], "exp": r["Credentials"]["Expiration"].isoformat(), "arn": r["AssumedRoleUser"]["Arn"]})
    except botocore.exceptions.ClientError as e:
        out.append({"code": e.response["Error"]["Code"], "type": e.response["Error"].get("Type", ""), "status": e.response["ResponseMetadata"]["HTTPStatusCode"]})
print(json.dumps(out))
`
	trusted, tsecret := cognitoemu.AccountKeys(mgmt)
	untrusted, usecret := cognitoemu.AccountKeys(outside)
	callers, _ := json.Marshal([][3]string{{trusted, tsecret, "ext-17"}, {untrusted, usecret, "ext-17"}})
	out, err := exec.Command(boto.Python, "-c", script, url, roleArn(member, "cognito-export-reader"), string(callers)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got []map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != 2 || !strings.HasPrefix(fmt.Sprint(got[0]["key"]), "ASIA") || got[0]["arn"] != "arn:aws:sts::"+member+":assumed-role/cognito-export-reader/botocore-"+runID ||
		got[1]["code"] != "AccessDenied" || got[1]["type"] != "Sender" || got[1]["status"] != float64(403) {
		t.Fatalf("botocore read %v", got)
	}
}
