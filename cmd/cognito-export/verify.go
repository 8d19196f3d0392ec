package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// errNotIntact is a verify that found problems: exit 1. The problems and
// the verdict are already printed.
var errNotIntact = errors.New("the export is not intact")

// runVerify checks an export against its manifest: one line per problem on
// stdout, then the verdict.
func runVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("verify", "verify [--region R] [--endpoint-url URL] LOCATION", stdout)
	var opts s3dest.Options
	fs.StringVar(&opts.Region, "region", "", "AWS region of the S3 bucket (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&opts.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	location, rest, err := splitLocation("verify", args)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if location == "" {
		return usageError{"verify: missing LOCATION, a directory or s3://bucket/prefix/ (see cognito-export verify -h)"}
	}
	src, err := reader.Open(ctx, location, opts)
	if err != nil {
		return verifyError(err)
	}
	res, err := reader.Verify(ctx, src, func(p reader.Problem) { fmt.Fprintln(stdout, p) })
	if err != nil {
		return verifyError(err)
	}
	if !res.Intact() {
		fmt.Fprintf(stdout, "verify: NOT intact: %s at %s\n", plural(res.Problems, "problem"), src)
		return errNotIntact
	}
	fmt.Fprintf(stdout, "verify: intact: %s, %s rows, %s bytes, SHA-256 of %s %s\n",
		plural(res.Parts, "part"), thousands(res.Rows), thousands(res.Bytes), reader.ManifestName, res.Manifest.SHA256)
	return nil
}

// verifyError makes "no complete export here" a usage error (exit 2).
func verifyError(err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return usageError{"verify: " + err.Error()}
	}
	return fmt.Errorf("verify: %w", err)
}

// splitLocation takes the one positional argument of command out of args,
// wherever it stands among the flags. Every flag of verify and report takes
// a value.
func splitLocation(command string, args []string) (string, []string, error) {
	var location string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) && location == "" {
				location, i = args[i+1], i+1
			}
			if i+1 < len(args) {
				return "", nil, usageError{fmt.Sprintf("%s: unexpected argument %q: one location only", command, args[i+1])}
			}
		case strings.HasPrefix(a, "-"):
			rest = append(rest, a)
			if !strings.Contains(a, "=") && a != "-h" && a != "--help" && a != "-help" && i+1 < len(args) {
				rest, i = append(rest, args[i+1]), i+1
			}
		case location == "":
			location = a
		default:
			return "", nil, usageError{fmt.Sprintf("%s: unexpected argument %q: one location only", command, a)}
		}
	}
	return location, rest, nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(int64(n)) + " " + noun + "s"
}

// thousands prints n with commas: 173,570.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
