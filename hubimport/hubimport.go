// Package hubimport imports ASFF findings into AWS Security Hub with
// BatchImportFindings, in batches of the API's 100, under the SDK's
// standard retries. A finding Security Hub refuses is an error that names
// it and says why, never a silent partial import.
package hubimport

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/cognito-export/cognito-export/asff"
	"github.com/cognito-export/cognito-export/fault"
)

// importer is the one call made: the SDK's client has it.
type importer interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, opts ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

// Client imports findings into Security Hub in one region.
type Client struct {
	hub importer
}

// New is a client of Security Hub in region, with credentials and
// endpoint from the SDK's chain (AWS_ENDPOINT_URL_SECURITYHUB included).
func New(ctx context.Context, region string) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for Security Hub: %w", err)
	}
	cfg.Credentials = fault.MarkCredentials(cfg.Credentials)
	return &Client{hub: securityhub.NewFromConfig(cfg)}, nil
}

// Result is what an import did.
type Result struct {
	Imported, Batches int
}

// Import sends findings in batches of asff.MaxBatch. Every batch is sent;
// the error names the findings Security Hub refused, with its reasons.
func (c *Client) Import(ctx context.Context, findings []asff.Finding) (Result, error) {
	var res Result
	var refused []string
	failed := 0
	for start := 0; start < len(findings); start += asff.MaxBatch {
		batch := findings[start:min(start+asff.MaxBatch, len(findings))]
		in := &securityhub.BatchImportFindingsInput{}
		for _, f := range batch {
			in.Findings = append(in.Findings, toSDK(f))
		}
		out, err := c.hub.BatchImportFindings(ctx, in)
		if err != nil {
			return res, fmt.Errorf("security hub: import findings %d to %d of %d: %w", start+1, start+len(batch), len(findings), err)
		}
		res.Batches++
		res.Imported += int(aws.ToInt32(out.SuccessCount))
		failed += int(aws.ToInt32(out.FailedCount))
		for _, f := range out.FailedFindings {
			if len(refused) < 3 {
				refused = append(refused, fmt.Sprintf("%s: %s %s", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
			}
		}
	}
	if failed > 0 {
		return res, fmt.Errorf("security hub refused %d of %d findings: %s", failed, len(findings), strings.Join(refused, "; "))
	}
	return res, nil
}

// toSDK is f as the SDK sends it.
func toSDK(f asff.Finding) types.AwsSecurityFinding {
	out := types.AwsSecurityFinding{
		SchemaVersion: aws.String(f.SchemaVersion), Id: aws.String(f.ID), ProductArn: aws.String(f.ProductArn),
		GeneratorId: aws.String(f.GeneratorID), AwsAccountId: aws.String(f.AwsAccountID), Types: f.Types,
		CreatedAt: aws.String(f.CreatedAt), UpdatedAt: aws.String(f.UpdatedAt),
		Severity: &types.Severity{Label: types.SeverityLabel(f.Severity.Label), Original: opt(f.Severity.Original)},
		Title:    aws.String(f.Title), Description: aws.String(f.Description), ProductFields: f.ProductFields,
		RecordState: types.RecordState(f.RecordState),
	}
	for _, r := range f.Resources {
		res := types.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID), Region: opt(r.Region), Tags: r.Tags}
		if r.Partition != "" {
			res.Partition = types.Partition(r.Partition)
		}
		if r.Details != nil {
			res.Details = &types.ResourceDetails{Other: r.Details.Other}
		}
		out.Resources = append(out.Resources, res)
	}
	return out
}

// opt is s, or nil when empty: Security Hub refuses an empty string where
// it takes a member's absence.
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
