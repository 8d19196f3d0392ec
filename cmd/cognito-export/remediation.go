package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cognito-export/cognito-export/internal/buildinfo"
	"github.com/cognito-export/cognito-export/remediation"
	"github.com/cognito-export/cognito-export/review"
)

// runRemediation writes the script that carries out a review's revocations
// still present in an export, and the policy to run it.
func runRemediation(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("remediation", "remediation --decisions decisions.csv --export NEW --output remove.sh [flags]", stdout)
	var o remediation.Options
	fs.StringVar(&o.Decisions, "decisions", "", "the reviewers' decisions.csv (required)")
	fs.StringVar(&o.Export, "export", "", "the pool's latest export, a directory or s3://bucket/prefix/: only revocations it still holds get a command (required)")
	fs.StringVar(&o.Output, "output", "", "the shell script to write, e.g. remove.sh (required)")
	fs.StringVar(&o.Policy, "policy", "", "the IAM policy to write for running the script (default: beside it, remove.sh → remove-policy.json)")
	fs.StringVar(&o.S3.Region, "region", "", "AWS region of the export's S3 bucket (default: the SDK's chain); the script takes the pool's region from its id")
	fs.StringVar(&o.S3.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("remediation: unexpected argument %q: every input is a flag (see cognito-export remediation -h)", fs.Arg(0))}
	}
	o.Generator = buildinfo.Generator()
	res, err := remediation.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "remediation: %s of %s to remove (%d already gone, %d whose username is now another user's) → %s; policy → %s\n",
		review.Plural(res.Remove, "membership"), review.Plural(res.Revokes, "revocation"), res.Gone, res.Recreated, res.Script, res.Policy)
	if res.Remove > 0 {
		fmt.Fprintf(stdout, "remediation: read it, then: sh %s --dry-run; sh %s\n", res.Script, res.Script)
	}
	return nil
}
