package export_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
)

type emuEnv struct {
	pool   *cognitoemu.Pool
	srv    *cognitoemu.Server
	url    string
	client *cip.Client
}

// startEmulator serves a synthetic pool over real HTTP; everything talks to
// it through aws-sdk-go-v2.
func startEmulator(t testing.TB, spec cognitoemu.PoolSpec, opts cognitoemu.Options) *emuEnv {
	t.Helper()
	pool := cognitoemu.NewPool(spec)
	srv := cognitoemu.NewServer(opts, pool)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client, err := cognito.NewClient(context.Background(), clientConfig(hs.URL), ratelimit.Unlimited(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &emuEnv{pool: pool, srv: srv, url: hs.URL, client: client}
}

func clientConfig(url string) cognito.Config {
	return cognito.Config{
		Region: "us-east-1", EndpointURL: url, MaxAttempts: 10,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", ""),
	}
}
