package cognito

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// CLIGroup is a GroupType as the AWS CLI prints it, fields in the same
// order and dates as Python's isoformat.
type CLIGroup struct {
	GroupName        string  `json:"GroupName"`
	UserPoolId       string  `json:"UserPoolId"`
	Description      *string `json:"Description,omitempty"`
	RoleArn          *string `json:"RoleArn,omitempty"`
	Precedence       *int32  `json:"Precedence,omitempty"`
	LastModifiedDate string  `json:"LastModifiedDate,omitempty"`
	CreationDate     string  `json:"CreationDate,omitempty"`
}

// CLIResult is what `aws cognito-idp admin-list-groups-for-user` prints:
// the groups, and the token that resumes after them when MaxItems stopped
// the paginator.
type CLIResult struct {
	Groups    []CLIGroup `json:"Groups"`
	NextToken string     `json:"NextToken,omitempty"`
}

// CLIPages runs p to its end (or its MaxItems) and returns what `aws
// cognito-idp admin-list-groups-for-user` prints for the same request: the
// groups in the CLI's shape, and the token that resumes after them.
func CLIPages(ctx context.Context, p *GroupsPaginator) (CLIResult, error) {
	res := CLIResult{Groups: []CLIGroup{}}
	for groups, err := range p.Pages(ctx) {
		if err != nil {
			return CLIResult{}, Explain("AdminListGroupsForUser", err)
		}
		for _, g := range groups {
			res.Groups = append(res.Groups, ToCLIGroup(g))
		}
	}
	res.NextToken = p.ResumeToken()
	return res, nil
}

// ToCLIGroup is g as the AWS CLI prints it.
func ToCLIGroup(g types.GroupType) CLIGroup {
	return CLIGroup{
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
