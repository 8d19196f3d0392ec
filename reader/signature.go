package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/cognito-export/cognito-export/sshsig"
)

// The signature's problems, reported by CheckSignature as Verify reports
// the parts'.
const (
	Unsigned  Kind = "unsigned"  // no signature, where one is required
	BadSig    Kind = "signature" // a signature that does not sign the manifest, or does not parse
	Untrusted Kind = "untrusted" // a good signature by a key the allowed signers do not allow
)

// maxSignature bounds the signature read: a real one is under 1 KB.
const maxSignature = 64 << 10

// Signature is what CheckSignature found of a manifest's signature.
type Signature struct {
	// Present: a signature sits beside the manifest.
	Present bool
	// Fingerprint is the signer's key (SHA256:...), as the signature names
	// it; "" when there is none or it does not parse.
	Fingerprint string
	// Valid: it signs the manifest's exact bytes in the namespace
	// cognito-export, by the key it names.
	Valid bool
	// CheckedAgainst is the allowed_signers file the signer was checked
	// against; "" when none was given.
	CheckedAgainst string
	// Principals are the allowed_signers principals that allow the key;
	// set only when the signer was checked and allowed.
	Principals []string
}

// Trusted reports whether the signature is good and its signer was checked
// and allowed.
func (s Signature) Trusted() bool { return s.Valid && s.CheckedAgainst != "" && len(s.Principals) > 0 }

// SignatureCheck says what CheckSignature holds a signature to.
type SignatureCheck struct {
	// Allowed are the signers who may sign; nil checks only that a
	// signature present is good, and requires none.
	Allowed *sshsig.AllowedSigners
	// Identity is the principal the signer must be (ssh-keygen -Y verify
	// -I); "" accepts any principal the file allows for the key.
	Identity string
	// Now is when the allowed_signers' valid-after and valid-before are
	// judged; zero is time.Now.
	Now time.Time
}

// CheckSignature reads the signature beside m at src and checks it against
// m's bytes as they were read, then, with c.Allowed, its signer. A
// signature that is there but bad is always a problem; a missing or an
// untrusted one only when c.Allowed asks for a trusted one. Each problem
// goes to report. The error is for what stops the check (a failure to
// read).
func CheckSignature(ctx context.Context, src Source, m Manifest, c SignatureCheck, report func(Problem)) (Signature, error) {
	var st Signature
	if c.Allowed != nil {
		st.CheckedAgainst = c.Allowed.File
	}
	problem := func(k Kind, format string, args ...any) {
		report(Problem{Kind: k, Name: SignatureName, Detail: fmt.Sprintf(format, args...)})
	}
	data, err := readSignature(ctx, src)
	if errors.Is(err, fs.ErrNotExist) {
		if c.Allowed != nil {
			problem(Unsigned, "not there: the export is not signed, and %s asks for a signer it allows", c.Allowed.File)
		}
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Present = true
	sig, err := sshsig.ParseSignature(data)
	if err != nil {
		problem(BadSig, "%v", err)
		return st, nil
	}
	st.Fingerprint = sig.Fingerprint()
	if err := sig.Verify(sshsig.Namespace, m.raw); err != nil {
		problem(BadSig, "does not sign this %s: %v", ManifestName, err)
		return st, nil
	}
	st.Valid = true
	if c.Allowed == nil {
		return st, nil
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	principals, err := c.Allowed.Allow(sig.PublicKey, sshsig.Namespace, c.Identity, now)
	if err != nil {
		problem(Untrusted, "%v", err)
		return st, nil
	}
	st.Principals = principals
	return st, nil
}

func readSignature(ctx context.Context, src Source) ([]byte, error) {
	r, err := src.Open(ctx, SignatureName)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxSignature+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", SignatureName, err)
	}
	return data, nil // one too large, ParseSignature refuses by its size
}
