package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// ErrNotIntact is a verify that found problems; the problems and the
// verdict are already written.
var ErrNotIntact = errors.New("the export is not intact")

// ErrNotRetained is a verify with RequireRetention that found a file under
// no retention; the files and the verdict are already written.
var ErrNotRetained = errors.New("the export is not under retention")

// VerifyOptions say what a verify checks besides the parts.
type VerifyOptions struct {
	S3 s3dest.Options
	// Signers, when it allows any, must have signed the manifest; without
	// them a signature present is checked against the manifest only.
	Signers reader.SignatureCheck
	// RequireRetention checks that every file is under S3 Object Lock
	// retention now.
	RequireRetention bool
}

// Verify checks the export at where against its manifest: one line per
// problem on w, then the verdict. It returns ErrNotIntact or
// ErrNotRetained when the export is not (the lines say why), and an error
// of kind fault.Usage when where holds no complete export or cannot hold
// retention.
func Verify(ctx context.Context, where string, o VerifyOptions, w io.Writer) error {
	src, err := reader.Open(ctx, where, o.S3)
	if err != nil {
		return verifyError(err)
	}
	if o.RequireRetention && !reader.HoldsRetention(src) {
		return fault.Usagef(fmt.Sprintf("verify: --require-retention at %s: %v", src, reader.ErrNoRetention))
	}
	verdict, err := verifyParts(ctx, src, o.Signers, w)
	if err != nil {
		return err
	}
	if o.RequireRetention {
		if err := verifyRetention(ctx, src, w); err != nil {
			return err
		}
	}
	return verdict
}

// verifyParts checks the parts against the manifest and the manifest's
// signature: the verdict is ErrNotIntact or nil; err is a verify that
// could not be made.
func verifyParts(ctx context.Context, src reader.Source, signers reader.SignatureCheck, w io.Writer) (verdict, err error) {
	res, err := reader.Verify(ctx, src, func(p reader.Problem) { fmt.Fprintln(w, p) })
	if err != nil {
		return nil, verifyError(err)
	}
	var sigProblems []reader.Kind
	sig, err := reader.CheckSignature(ctx, src, res.Manifest, signers, func(p reader.Problem) {
		sigProblems = append(sigProblems, p.Kind)
		fmt.Fprintln(w, p)
	})
	if err != nil {
		return nil, verifyError(err)
	}
	switch {
	case !res.Intact():
		fmt.Fprintf(w, "verify: NOT intact: %s at %s\n", Plural(res.Problems+len(sigProblems), "problem"), src)
		return ErrNotIntact, nil
	case len(sigProblems) > 0:
		fmt.Fprintf(w, "verify: NOT trusted: the parts match %s, but its signature is %s\n", reader.ManifestName, sigVerdict(sigProblems[0]))
		return ErrNotIntact, nil
	}
	fmt.Fprintln(w, "verify: "+SignatureLine(sig))
	fmt.Fprintf(w, "verify: intact: %s, %s rows, %s bytes, SHA-256 of %s %s\n",
		Plural(res.Parts, "part"), Thousands(res.Rows), Thousands(res.Bytes), reader.ManifestName, res.Manifest.SHA256)
	return nil, nil
}

// verifyRetention is RequireRetention: one line per file under no
// retention, then the verdict.
func verifyRetention(ctx context.Context, src reader.Source, w io.Writer) error {
	res, err := reader.CheckRetention(ctx, src, time.Now(), func(p reader.Problem) { fmt.Fprintln(w, p) })
	if errors.Is(err, reader.ErrNoRetention) {
		return fault.Usagef(fmt.Sprintf("verify: --require-retention at %s: %v", src, err))
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if res.Unretained > 0 {
		fmt.Fprintf(w, "verify: NOT retained: %d of %s under no Object Lock retention at %s\n", res.Unretained, Plural(res.Files, "file"), src)
		return ErrNotRetained
	}
	modes := make([]string, 0, len(res.Modes))
	for _, m := range slices.Sorted(maps.Keys(res.Modes)) {
		modes = append(modes, fmt.Sprintf("%d %s", res.Modes[m], m))
	}
	fmt.Fprintf(w, "verify: retained: %s (%s), none deletable before %s\n",
		Plural(res.Files, "file"), strings.Join(modes, ", "), res.Earliest.Format(time.RFC3339))
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

// verifyError makes "no complete export here" the user's to fix (exit 2).
func verifyError(err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return fault.Usagef("verify: " + err.Error())
	}
	return fmt.Errorf("verify: %w", err)
}
