package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sshsig"
)

// runVerify checks an export against its manifest: one line per problem on
// stdout, then the verdict.
func runVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("verify", "verify [--region R] [--endpoint-url URL] [--allowed-signers FILE [--signer-identity ID]] [--require-retention] LOCATION", stdout)
	var o review.VerifyOptions
	var signers signerFlags
	fs.StringVar(&o.S3.Region, "region", "", "AWS region of the S3 bucket (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&o.S3.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	fs.BoolVar(&o.RequireRetention, "require-retention", false, "also check that every file of the export is under S3 Object Lock retention now, listing each that is not (needs s3:GetObjectRetention)")
	signers.bind(fs, "the export")
	location, rest, err := splitLocation(args)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if location == "" {
		return usageError{"verify: missing LOCATION, a directory or s3://bucket/prefix/ (see cognito-export verify -h)"}
	}
	if o.Signers, err = signers.check("verify"); err != nil {
		return err
	}
	return review.Verify(ctx, location, o, stdout)
}

// signerFlags say who may have signed an export: verify's and report's.
type signerFlags struct {
	allowed, identity string
}

func (f *signerFlags) bind(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.allowed, "allowed-signers", "", "allowed_signers file (ssh-keygen's format): "+what+" must be signed (manifest.json.sig) by a key it allows for the namespace cognito-export; without it a signature present is checked against the manifest only")
	fs.StringVar(&f.identity, "signer-identity", "", "the principal of --allowed-signers the signer must be, as ssh-keygen -Y verify -I (default: any the file allows for the key)")
}

// check reads the allowed signers: a file that does not read is the
// user's to fix (exit 2).
func (f *signerFlags) check(cmd string) (reader.SignatureCheck, error) {
	if f.allowed == "" {
		if f.identity != "" {
			return reader.SignatureCheck{}, usageError{cmd + ": --signer-identity names a principal of --allowed-signers: give the file too"}
		}
		return reader.SignatureCheck{}, nil
	}
	a, err := sshsig.LoadAllowedSigners(f.allowed)
	if err != nil {
		return reader.SignatureCheck{}, usageError{fmt.Sprintf("%s: --allowed-signers: %v", cmd, err)}
	}
	if len(a.Signers) == 0 {
		return reader.SignatureCheck{}, usageError{fmt.Sprintf(`%s: --allowed-signers %s names no signer: add a line like PRINCIPAL namespaces="cognito-export" ssh-ed25519 KEY`, cmd, f.allowed)}
	}
	return reader.SignatureCheck{Allowed: a, Identity: f.identity}, nil
}

// splitLocation takes the one positional argument out of args, wherever it
// stands among the flags.
func splitLocation(args []string) (string, []string, error) {
	pos, rest, err := splitArgs("verify", args, 1, map[string]bool{"require-retention": true})
	if len(pos) == 0 {
		return "", rest, err
	}
	return pos[0], rest, err
}
