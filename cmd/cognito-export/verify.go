package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sink/s3dest"
	"github.com/cognito-export/cognito-export/sshsig"
)

// errNotIntact is a verify that found problems: exit 1. The problems and
// the verdict are already printed.
var errNotIntact = errors.New("the export is not intact")

// errNotRetained is a verify --require-retention that found a file under
// no retention: exit 1, the files and the verdict already printed.
var errNotRetained = errors.New("the export is not under retention")

// runVerify checks an export against its manifest: one line per problem on
// stdout, then the verdict.
func runVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("verify", "verify [--region R] [--endpoint-url URL] [--allowed-signers FILE [--signer-identity ID]] [--require-retention] LOCATION", stdout)
	var opts s3dest.Options
	var requireRetention bool
	var signers signerFlags
	fs.StringVar(&opts.Region, "region", "", "AWS region of the S3 bucket (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&opts.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	fs.BoolVar(&requireRetention, "require-retention", false, "also check that every file of the export is under S3 Object Lock retention now, listing each that is not (needs s3:GetObjectRetention)")
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
	check, err := signers.check("verify")
	if err != nil {
		return err
	}
	src, err := reader.Open(ctx, location, opts)
	if err != nil {
		return verifyError(err)
	}
	if requireRetention && !reader.HoldsRetention(src) {
		return usageError{fmt.Sprintf("verify: --require-retention at %s: %v", src, reader.ErrNoRetention)}
	}
	res, err := reader.Verify(ctx, src, func(p reader.Problem) { fmt.Fprintln(stdout, p) })
	if err != nil {
		return verifyError(err)
	}
	var sigProblems []reader.Kind
	sig, err := reader.CheckSignature(ctx, src, res.Manifest, check, func(p reader.Problem) {
		sigProblems = append(sigProblems, p.Kind)
		fmt.Fprintln(stdout, p)
	})
	if err != nil {
		return verifyError(err)
	}
	var verdict error
	switch {
	case !res.Intact():
		fmt.Fprintf(stdout, "verify: NOT intact: %s at %s\n", review.Plural(res.Problems+len(sigProblems), "problem"), src)
		verdict = errNotIntact
	case len(sigProblems) > 0:
		fmt.Fprintf(stdout, "verify: NOT trusted: the parts match %s, but its signature is %s\n", reader.ManifestName, sigVerdict(sigProblems[0]))
		verdict = errNotIntact
	default:
		fmt.Fprintln(stdout, "verify: "+review.SignatureLine(sig))
		fmt.Fprintf(stdout, "verify: intact: %s, %s rows, %s bytes, SHA-256 of %s %s\n",
			review.Plural(res.Parts, "part"), review.Thousands(res.Rows), review.Thousands(res.Bytes), reader.ManifestName, res.Manifest.SHA256)
	}
	if requireRetention {
		if err := verifyRetention(ctx, src, stdout); err != nil {
			return err
		}
	}
	return verdict
}

// verifyRetention is --require-retention: one line per file under no
// retention, then the verdict.
func verifyRetention(ctx context.Context, src reader.Source, stdout io.Writer) error {
	res, err := reader.CheckRetention(ctx, src, time.Now(), func(p reader.Problem) { fmt.Fprintln(stdout, p) })
	if errors.Is(err, reader.ErrNoRetention) {
		return usageError{fmt.Sprintf("verify: --require-retention at %s: %v", src, err)}
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if res.Unretained > 0 {
		fmt.Fprintf(stdout, "verify: NOT retained: %d of %s under no Object Lock retention at %s\n", res.Unretained, review.Plural(res.Files, "file"), src)
		return errNotRetained
	}
	modes := make([]string, 0, len(res.Modes))
	for _, m := range slices.Sorted(maps.Keys(res.Modes)) {
		modes = append(modes, fmt.Sprintf("%d %s", res.Modes[m], m))
	}
	fmt.Fprintf(stdout, "verify: retained: %s (%s), none deletable before %s\n",
		review.Plural(res.Files, "file"), strings.Join(modes, ", "), res.Earliest.Format(time.RFC3339))
	return nil
}

// sigVerdict says in a word what is wrong with a signature.
func sigVerdict(k reader.Kind) string {
	switch k {
	case reader.Unsigned:
		return "missing"
	case reader.Untrusted:
		return "by a signer the allowed signers do not allow"
	}
	return "bad"
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

// verifyError makes "no complete export here" a usage error (exit 2).
func verifyError(err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return usageError{"verify: " + err.Error()}
	}
	return fmt.Errorf("verify: %w", err)
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

// splitArgs takes up to max positional arguments out of args, wherever
// they stand among the flags. Flags take a value unless named in bools.
func splitArgs(cmd string, args []string, max int, bools map[string]bool) ([]string, []string, error) {
	var pos, rest []string
	tooMany := func(a string) error {
		return usageError{fmt.Sprintf("%s: unexpected argument %q: %d locations at most", cmd, a, max)}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, p := range args[i+1:] {
				if len(pos) == max {
					return nil, nil, tooMany(p)
				}
				pos = append(pos, p)
			}
			return pos, rest, nil
		case strings.HasPrefix(a, "-"):
			rest = append(rest, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(a, "=") && !bools[name] && a != "-h" && a != "--help" && a != "-help" && i+1 < len(args) {
				rest, i = append(rest, args[i+1]), i+1
			}
		case len(pos) < max:
			pos = append(pos, a)
		default:
			return nil, nil, tooMany(a)
		}
	}
	return pos, rest, nil
}
