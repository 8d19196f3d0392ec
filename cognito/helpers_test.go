package cognito_test

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
	client *cip.Client
}

// startEmulator serves a synthetic pool over real HTTP; the paginator talks
// to it through aws-sdk-go-v2.
func startEmulator(t testing.TB, spec cognitoemu.PoolSpec, opts cognitoemu.Options) *emuEnv {
	t.Helper()
	pool := cognitoemu.NewPool(spec)
	hs := httptest.NewServer(cognitoemu.NewServer(opts, pool))
	t.Cleanup(hs.Close)
	client, err := cognito.NewClient(context.Background(), cognito.Config{
		Region: "us-east-1", EndpointURL: hs.URL, MaxAttempts: 10,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", ""),
	}, ratelimit.Unlimited(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &emuEnv{pool: pool, client: client}
}
