package cognitoemu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// BenchmarkServeListUsersPage is the emulator's own cost of one full
// ListUsers page (60 users) of a 1,000,000-user pool, without the SDK: what
// a 1M-user benchmark export pays on the server side per page.
func BenchmarkServeListUsersPage(b *testing.B) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1_000_000, Groups: 10, Seed: 1})
	srv := cognitoemu.NewServer(cognitoemu.Options{}, pool)
	tr := srv.Transport()
	body := `{"UserPoolId":"` + pool.ID() + `","Limit":60}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "http://emulator.invalid/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ListUsers")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 bench")
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
}

// BenchmarkListUsersSDK is one ListUsers page through the SDK's whole stack
// and the emulator in process.
func BenchmarkListUsersSDK(b *testing.B) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 100_000, Groups: 10, Seed: 1})
	srv := cognitoemu.NewServer(cognitoemu.Options{}, pool)
	c := cip.New(cip.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://emulator.invalid"),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		HTTPClient:  &http.Client{Transport: srv.Transport()},
	})
	ctx := context.Background()
	b.ReportAllocs()
	var token *string
	for b.Loop() {
		out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(60), PaginationToken: token})
		if err != nil {
			b.Fatal(err)
		}
		token = out.PaginationToken
	}
}
