package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognito-export/cognito-export/cognito"
)

// cliGroup is a GroupType as the AWS CLI prints it, fields in the same order.
type cliGroup struct {
	GroupName        string  `json:"GroupName"`
	UserPoolId       string  `json:"UserPoolId"`
	Description      *string `json:"Description,omitempty"`
	RoleArn          *string `json:"RoleArn,omitempty"`
	Precedence       *int32  `json:"Precedence,omitempty"`
	LastModifiedDate string  `json:"LastModifiedDate,omitempty"`
	CreationDate     string  `json:"CreationDate,omitempty"`
}

type cliResult struct {
	Groups    []cliGroup `json:"Groups"`
	NextToken string     `json:"NextToken,omitempty"`
}

func runListGroups(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("list-groups-for-user", "list-groups-for-user --user-pool-id ID --username NAME [--page-size N] [--max-items N] [--starting-token T]", stdout)
	var (
		poolID, username, token string
		pageSize, maxItems      int
		cc                      cognito.Config
		limits                  limitFlags
	)
	fs.StringVar(&poolID, "user-pool-id", "", "the user pool (required)")
	fs.StringVar(&username, "username", "", "the user whose groups to list (required)")
	fs.IntVar(&pageSize, "page-size", 0, "Limit of each request, 1..60 (default: the service's)")
	fs.IntVar(&maxItems, "max-items", 0, "stop after this many groups and print a NextToken (0: all)")
	fs.StringVar(&token, "starting-token", "", "a NextToken printed by this command, boto3 or the AWS CLI")
	fs.StringVar(&cc.Region, "region", "", "AWS region")
	fs.StringVar(&cc.EndpointURL, "endpoint-url", "", "Cognito endpoint")
	limits.bind(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case poolID == "":
		return usageError{"list-groups-for-user: missing --user-pool-id"}
	case username == "":
		return usageError{"list-groups-for-user: missing --username"}
	case pageSize < 0 || pageSize > cognito.MaxPageSize:
		return usageError{fmt.Sprintf("--page-size %d: Cognito accepts 1..%d", pageSize, cognito.MaxPageSize)}
	case maxItems < 0:
		return usageError{fmt.Sprintf("--max-items %d: must not be negative", maxItems)}
	}
	// Paced like export, so that a script calling it in a loop stays
	// within the quota it shares with everything else in the account.
	lim, err := limits.build()
	if err != nil {
		return err
	}
	client, err := cognito.NewClient(ctx, cc, lim, nil)
	if err != nil {
		return err
	}
	pager, err := cognito.NewGroupsPaginator(client, poolID, username, cognito.PaginationConfig{
		MaxItems: maxItems, PageSize: int32(pageSize), StartingToken: token,
	})
	if err != nil {
		return usageError{"--starting-token: " + err.Error()}
	}
	res := cliResult{Groups: []cliGroup{}}
	for groups, err := range pager.Pages(ctx) {
		if err != nil {
			return cognito.Explain("AdminListGroupsForUser", err)
		}
		for _, g := range groups {
			res.Groups = append(res.Groups, toCLIGroup(g))
		}
	}
	res.NextToken = pager.ResumeToken()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(res)
}

func toCLIGroup(g types.GroupType) cliGroup {
	return cliGroup{
		GroupName: aws.ToString(g.GroupName), UserPoolId: aws.ToString(g.UserPoolId),
		Description: g.Description, RoleArn: g.RoleArn, Precedence: g.Precedence,
		LastModifiedDate: isoformat(g.LastModifiedDate), CreationDate: isoformat(g.CreationDate),
	}
}

// isoformat prints a time as the AWS CLI does (Python's isoformat): UTC
// offset, microseconds only when non-zero.
func isoformat(t *time.Time) string {
	if t == nil {
		return ""
	}
	u := t.UTC()
	if u.Nanosecond()/1000 == 0 {
		return u.Format("2006-01-02T15:04:05+00:00")
	}
	return u.Format("2006-01-02T15:04:05.000000+00:00")
}
