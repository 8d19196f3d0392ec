package cognito_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// TestCallsCountThrottlesOfEachOperation: the emulator throttles one quota
// category (AdminListGroupsForUser's) and not another (ListUsers'); the
// client, unpaced, is throttled and retries. Each throttle is counted
// against the operation it answered, so the metrics can say which quota
// was short.
func TestCallsCountThrottlesOfEachOperation(t *testing.T) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 50, Groups: 5, Seed: 3})
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{
		CategoryQuotas: map[string]float64{"UserResourceRead": 20}, QuotaBurst: 1}, pool))
	t.Cleanup(hs.Close)
	calls := &cognito.Calls{}
	ctx := context.Background()
	client, err := cognito.NewClient(ctx, cognito.Config{
		Region: "us-east-1", EndpointURL: hs.URL, MaxAttempts: 50,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", ""),
	}, ratelimit.Unlimited(), calls)
	if err != nil {
		t.Fatal(err)
	}
	users, err := client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool.ID()), Limit: aws.Int32(30)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		if _, err := client.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(pool.ID()), Username: u.Username}); err != nil {
			t.Fatal(err)
		}
	}
	of := calls.ThrottlesByOperation()
	if of["AdminListGroupsForUser"] == 0 || of["AdminListGroupsForUser"] != calls.Throttles() {
		t.Fatalf("throttles by operation %v, in all %d: want every one on AdminListGroupsForUser", of, calls.Throttles())
	}
	if _, ok := of["ListUsers"]; ok {
		t.Errorf("ListUsers, under no quota, has throttles: %v", of)
	}
	if got, want := calls.ByOperation()["AdminListGroupsForUser"], int64(len(users.Users))+of["AdminListGroupsForUser"]; got != want {
		t.Errorf("AdminListGroupsForUser calls %d, want %d users plus %d throttled attempts", got, len(users.Users), of["AdminListGroupsForUser"])
	}
}
