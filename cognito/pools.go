package cognito

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// PoolSummary is one pool as ListUserPools lists it.
type PoolSummary struct {
	ID, Name string
}

// ListUserPools returns every pool of the client's account and region, in
// ListUserPools order. Each page is a call of the client, so it waits on
// the UserPoolRead quota of the limiters the client was built with.
func ListUserPools(ctx context.Context, client interface {
	ListUserPools(ctx context.Context, in *cip.ListUserPoolsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolsOutput, error)
}) ([]PoolSummary, error) {
	var pools []PoolSummary
	var token *string
	for {
		resp, err := client.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(MaxPageSize), NextToken: token})
		if err != nil {
			return nil, Explain("ListUserPools", err)
		}
		for _, p := range resp.UserPools {
			pools = append(pools, PoolSummary{ID: aws.ToString(p.Id), Name: aws.ToString(p.Name)})
		}
		if token = resp.NextToken; token == nil || *token == "" {
			return pools, nil
		}
	}
}
