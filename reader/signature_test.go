package reader_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/memdest"
	"github.com/cognito-export/cognito-export/sshsig"
)

func seededSigner(t *testing.T, seed byte) *sshsig.Signer {
	t.Helper()
	key := make([]byte, ed25519.SeedSize)
	key[0] = seed
	block, err := ssh.MarshalPrivateKey(ed25519.NewKeyFromSeed(key), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sshsig.ParsePrivateKey(pem.EncodeToMemory(block))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allowing(t *testing.T, s *sshsig.Signer) *sshsig.AllowedSigners {
	t.Helper()
	line := `audit@example.com namespaces="cognito-export" ` + string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(s.PublicKey())))
	signers, err := sshsig.ParseAllowedSigners([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return &sshsig.AllowedSigners{File: "allowed_signers", Signers: signers}
}

// TestCheckSignature: what each state of a signature is, with and without
// an allowed_signers file. A bad signature is a problem either way; a
// missing or untrusted one only when a trusted one is asked for.
func TestCheckSignature(t *testing.T) {
	ctx := context.Background()
	key, other := seededSigner(t, 1), seededSigner(t, 2)
	m := sink.Manifest{Format: "csv", Parts: []sink.PartInfo{}}
	for _, tc := range []struct {
		name    string
		signer  *sshsig.Signer
		tamper  func(d *memdest.Dest)
		allowed *sshsig.AllowedSigners
		want    reader.Kind // "" none
		trusted bool
	}{
		{name: "unsigned, nothing asked"},
		{name: "unsigned, a signer asked for", allowed: allowing(t, key), want: reader.Unsigned},
		{name: "signed, not checked", signer: key},
		{name: "signed and allowed", signer: key, allowed: allowing(t, key), trusted: true},
		{name: "signed by another key", signer: other, allowed: allowing(t, key), want: reader.Untrusted},
		{name: "manifest changed after", signer: key, want: reader.BadSig, tamper: func(d *memdest.Dest) {
			b, _ := d.Get(ctx, reader.ManifestName)
			d.Put(ctx, reader.ManifestName, bytes.Replace(b, []byte(`"csv"`), []byte(`"CSV"`), 1))
		}},
		{name: "not a signature", signer: key, want: reader.BadSig, tamper: func(d *memdest.Dest) {
			d.Put(ctx, reader.SignatureName, []byte("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"))
		}},
		{name: "far too large", signer: key, want: reader.BadSig, tamper: func(d *memdest.Dest) {
			d.Put(ctx, reader.SignatureName, bytes.Repeat([]byte("A"), 1<<20))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := memdest.New()
			var s sink.Signer
			if tc.signer != nil {
				s = tc.signer
			}
			if err := sink.WriteSignedManifest(ctx, d, reader.ManifestName, m, s); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(d)
			}
			read, err := reader.ReadManifest(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			var got []reader.Problem
			st, err := reader.CheckSignature(ctx, d, read, reader.SignatureCheck{Allowed: tc.allowed}, func(p reader.Problem) { got = append(got, p) })
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("problems %v", got)
			case tc.want != "" && (len(got) != 1 || got[0].Kind != tc.want || got[0].Name != reader.SignatureName):
				t.Fatalf("problems %v, want one %s", got, tc.want)
			}
			for _, p := range got {
				if strings.ContainsAny(p.String(), "\n\r") {
					t.Errorf("problem is not one line: %q", p)
				}
			}
			if st.Trusted() != tc.trusted {
				t.Errorf("trusted %v, want %v (%+v)", st.Trusted(), tc.trusted, st)
			}
			if tc.signer != nil && tc.want == "" && st.Fingerprint != tc.signer.Fingerprint() {
				t.Errorf("fingerprint %q, want %q", st.Fingerprint, tc.signer.Fingerprint())
			}
		})
	}
}
