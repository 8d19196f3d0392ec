package sshsig_test

import (
	"crypto/ed25519"
	"encoding/pem"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/sshsig"
)

// fixedKey is an ed25519 key from a fixed seed, in OpenSSH's private key
// format: the fuzz seeds need a real key without running ssh-keygen.
func fixedKey(t testing.TB) ([]byte, *sshsig.Signer) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	block, err := ssh.MarshalPrivateKey(priv, "seed")
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(block)
	s, err := sshsig.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return data, s
}

// oneLine reports whether an error is one printable line.
func oneLine(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return s != ""
}

// FuzzParseSignature reads a manifest.json.sig of any bytes, as verify and
// report find it beside a manifest anyone with write access may have
// changed: one printable line of error or a signature, never a panic,
// within the allocation bound; one that parses is checked against a
// message without panicking.
func FuzzParseSignature(f *testing.F) {
	_, s := fixedKey(f)
	sig, err := s.Sign([]byte("{}\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add(sig[:len(sig)/2])
	f.Add([]byte(strings.Replace(string(sig), "U1NIU0lH", "U1NIU0lI", 1)))
	f.Add([]byte("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAf////8=\n-----END SSH SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var parsed *sshsig.Signature
		var err error
		fuzzcheck.Default.Check(t, len(data), func() { parsed, err = sshsig.ParseSignature(data) })
		if err != nil {
			if !oneLine(err.Error()) {
				t.Fatalf("error is not one printable line: %q", err)
			}
			return
		}
		if parsed.PublicKey == nil || parsed.Fingerprint() == "" {
			t.Fatal("a signature without a key parsed")
		}
		_ = parsed.Verify(sshsig.Namespace, []byte("{}\n"))
	})
}

// FuzzParseAllowedSigners reads an allowed_signers file of any bytes: an
// error that names the line, or lines that each hold a key and
// principals; matching against them never panics.
func FuzzParseAllowedSigners(f *testing.F) {
	_, s := fixedKey(f)
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	for _, seed := range []string{
		"audit@example.com " + pub,
		"# comment\n\n*@example.com,!b@example.com namespaces=\"cognito-export,git\",valid-after=\"20200101\",valid-before=\"203001011200Z\" " + pub + " comment\n",
		"\"a b\" cert-authority " + pub,
		"a namespaces=\"x " + pub,
		"a unknown " + pub,
		"a ssh-ed25519 AAAA",
		"a ssh-rsa " + strings.Fields(pub)[1],
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var signers []sshsig.AllowedSigner
		var err error
		fuzzcheck.Default.Check(t, len(data), func() { signers, err = sshsig.ParseAllowedSigners(data) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && !strings.Contains(err.Error(), "bytes") || !oneLine(err.Error()) {
				t.Fatalf("error does not name the line in one printable line: %q", err)
			}
			return
		}
		a := &sshsig.AllowedSigners{File: "allowed_signers", Signers: signers}
		for _, l := range signers {
			if l.Key == nil || l.Principals == "" {
				t.Fatalf("line %d without a key or principals", l.Line)
			}
			_, _ = a.Allow(l.Key, sshsig.Namespace, "audit@example.com", time.Now())
		}
	})
}

var keyErrors = []string{
	sshsig.ErrEncrypted.Error(),
	"not an OpenSSH private key (want the file ssh-keygen -t ed25519 writes, beginning -----BEGIN OPENSSH PRIVATE KEY-----)",
	"not an ed25519 key: only ed25519 keys sign exports (ssh-keygen -t ed25519)",
	"an ed25519 key of the wrong size",
	"its public key is not one OpenSSH knows",
}

// FuzzParsePrivateKey reads a --signing-key file of any bytes: a key or
// an error that never quotes the file's bytes, never a panic.
func FuzzParsePrivateKey(f *testing.F) {
	data, _ := fixedKey(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		// x/crypto's parser, not ours: it keeps a few copies of the key.
		fuzzcheck.Default.Check(t, len(data), func() { _, err = sshsig.ParsePrivateKey(data) })
		// Every error is one of a few fixed sentences: none can carry
		// the file's bytes.
		if err != nil && !slices.Contains(keyErrors, err.Error()) && !strings.HasSuffix(err.Error(), "bytes: larger than any OpenSSH private key") {
			t.Fatalf("an error that is not one of ParsePrivateKey's fixed sentences: %q", err)
		}
	})
}

func TestMatchList(t *testing.T) {
	for _, tc := range []struct {
		s, list string
		want    bool
	}{
		{"a@example.com", "a@example.com", true},
		{"a@example.com", "*@example.com", true},
		{"a@example.com", "?@example.com", true},
		{"ab@example.com", "?@example.com", false},
		{"a@example.com", "b@example.com,*@example.*", true},
		{"a@example.com", "*@example.com,!a@*", false},
		{"a@example.com", "!b@*", false},
		{"", "*", true},
		{"abc", "a*b*c*", true},
		{"abd", "a*c", false},
	} {
		if got := sshsig.MatchList(tc.s, tc.list); got != tc.want {
			t.Errorf("MatchList(%q, %q) = %v", tc.s, tc.list, got)
		}
	}
}

func TestAllowedSignersErrorsNameTheLine(t *testing.T) {
	_, s := fixedKey(t)
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	for _, tc := range []struct{ file, want string }{
		{"a " + pub + "\nb", "line 2: "},
		{"a unknown-opt " + pub, `line 1: unknown option "unknown-opt"`},
		{"a valid-after=\"2020\" " + pub, `line 1: option "valid-after"`},
		{"a namespaces=x " + pub, "double-quoted"},
		{"a ssh-rsa " + strings.Fields(pub)[1], `key type "ssh-rsa", but the key is ssh-ed25519`},
	} {
		_, err := sshsig.ParseAllowedSigners([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.file, err, tc.want)
		}
	}
}
