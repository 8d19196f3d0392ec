package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/cognito-export/cognito-export/cognito"
)

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
	res, err := cognito.CLIPages(ctx, pager)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(res)
}
