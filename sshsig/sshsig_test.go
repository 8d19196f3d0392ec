package sshsig_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cognito-export/cognito-export/internal/sshkeygen"
	"github.com/cognito-export/cognito-export/sshsig"
)

// signAndCheck signs message with our signer and returns the paths of the
// message and the signature, for ssh-keygen.
func signAndCheck(t *testing.T, dir string, s *sshsig.Signer, message []byte) (string, string, []byte) {
	t.Helper()
	sig, err := s.Sign(message)
	if err != nil {
		t.Fatal(err)
	}
	msgFile, sigFile := filepath.Join(dir, "manifest.json"), filepath.Join(dir, "manifest.json.sig")
	if err := os.WriteFile(msgFile, message, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	return msgFile, sigFile, sig
}

// TestOpenSSHAndWeAgree holds our signatures against OpenSSH's: what we
// sign, ssh-keygen -Y verify accepts, and what ssh-keygen -Y sign signs,
// we accept; a byte changed, both refuse.
func TestOpenSSHAndWeAgree(t *testing.T) {
	sshkeygen.Require(t)
	dir := t.TempDir()
	key := sshkeygen.Generate(t, dir, "auditkey")
	allowedFile := sshkeygen.AllowedSigners(t, dir, "audit@example.com", key)
	signer, err := sshsig.LoadSigner(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))[1]; got != key.Base64() {
		t.Fatalf("the signer's public key is %s, ssh-keygen made %s", got, key.Base64())
	}
	allowed, err := sshsig.LoadAllowedSigners(allowedFile)
	if err != nil {
		t.Fatal(err)
	}
	message := []byte("{\"format\": \"parquet\"}\n")
	msgFile, sigFile, sig := signAndCheck(t, dir, signer, message)

	// Ours, checked by OpenSSH.
	if out, ok := sshkeygen.Verify(t, allowedFile, "audit@example.com", sigFile, msgFile); !ok {
		t.Fatalf("ssh-keygen -Y verify refused our signature: %s", out)
	}
	// Ours, checked by us.
	parsed, err := sshsig.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Verify(sshsig.Namespace, message); err != nil {
		t.Fatal(err)
	}
	if parsed.Fingerprint() != signer.Fingerprint() {
		t.Errorf("the signature names key %s, the signer is %s", parsed.Fingerprint(), signer.Fingerprint())
	}
	if _, err := allowed.Allow(parsed.PublicKey, sshsig.Namespace, "audit@example.com", time.Now()); err != nil {
		t.Fatal(err)
	}

	// OpenSSH's, checked by us: the same bytes as ours would be but for
	// the randomness ed25519 does not have, so equal.
	theirSig := sshkeygen.Sign(t, key, sshsig.Namespace, message)
	p2, err := sshsig.ParseSignature(theirSig)
	if err != nil {
		t.Fatalf("ssh-keygen's signature does not parse: %v", err)
	}
	if err := p2.Verify(sshsig.Namespace, message); err != nil {
		t.Fatalf("ssh-keygen's signature does not verify: %v", err)
	}
	if string(theirSig) != string(sig) {
		t.Errorf("ssh-keygen signs the same message with the same key as\n%s\nwe signed it as\n%s", theirSig, sig)
	}

	// One byte changed: both refuse.
	changed := append([]byte(nil), message...)
	changed[3] ^= 1
	if err := os.WriteFile(msgFile, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, ok := sshkeygen.Verify(t, allowedFile, "audit@example.com", sigFile, msgFile); ok {
		t.Fatalf("ssh-keygen -Y verify accepted a changed message: %s", out)
	}
	if err := parsed.Verify(sshsig.Namespace, changed); !errors.Is(err, sshsig.ErrBadSignature) {
		t.Fatalf("a changed message: %v, want ErrBadSignature", err)
	}
	// Another namespace: both refuse.
	if err := parsed.Verify("git", message); !errors.Is(err, sshsig.ErrBadSignature) {
		t.Fatalf("another namespace: %v", err)
	}
	if err := os.WriteFile(msgFile, message, 0o600); err != nil {
		t.Fatal(err)
	}
	gs := sshkeygen.Sign(t, key, "git", message)
	gitSig := filepath.Join(dir, "git.sig")
	if err := os.WriteFile(gitSig, gs, 0o600); err != nil {
		t.Fatal(err)
	}
	p3, err := sshsig.ParseSignature(gs)
	if err != nil {
		t.Fatal(err)
	}
	if err := p3.Verify(sshsig.Namespace, message); !errors.Is(err, sshsig.ErrBadSignature) {
		t.Fatalf("a signature for git accepted as ours: %v", err)
	}
	if out, ok := sshkeygen.Verify(t, allowedFile, "audit@example.com", gitSig, msgFile); ok {
		t.Fatalf("ssh-keygen accepted a git signature in namespace cognito-export: %s", out)
	}
}

// TestUntrustedSigners: a key the file does not name, an identity it does
// not allow, a namespace or a time it does not allow, are each refused, as
// ssh-keygen refuses them.
func TestUntrustedSigners(t *testing.T) {
	sshkeygen.Require(t)
	dir := t.TempDir()
	key, other := sshkeygen.Generate(t, dir, "k1"), sshkeygen.Generate(t, dir, "k2")
	signer, err := sshsig.LoadSigner(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	message := []byte("manifest")
	msgFile, sigFile, sig := signAndCheck(t, dir, signer, message)
	parsed, err := sshsig.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(key.Public)
	for _, tc := range []struct {
		name, file, identity string
	}{
		{"another key", "*@example.com " + strings.Join(strings.Fields(other.Public)[:2], " "), "a@example.com"},
		{"another identity", "b@example.com " + f[0] + " " + f[1], "a@example.com"},
		{"a negated identity", "*@example.com,!a@example.com " + f[0] + " " + f[1], "a@example.com"},
		{"another namespace", `a@example.com namespaces="git" ` + f[0] + " " + f[1], "a@example.com"},
		{"expired", `a@example.com valid-before="20200101Z" ` + f[0] + " " + f[1], "a@example.com"},
		{"not yet valid", `a@example.com valid-after="29990101Z" ` + f[0] + " " + f[1], "a@example.com"},
		{"a certificate authority", `a@example.com cert-authority ` + f[0] + " " + f[1], "a@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "allowed_signers")
			if err := os.WriteFile(file, []byte(tc.file+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := sshsig.LoadAllowedSigners(file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Allow(parsed.PublicKey, sshsig.Namespace, tc.identity, time.Now()); !errors.Is(err, sshsig.ErrUntrusted) {
				t.Errorf("we allowed it: %v", err)
			}
			if out, ok := sshkeygen.Verify(t, file, tc.identity, sigFile, msgFile); ok {
				t.Errorf("ssh-keygen allowed it: %s", out)
			}
		})
	}
	// And the file that does allow it, with a pattern and options, passes both.
	file := filepath.Join(dir, "ok")
	line := `# auditors` + "\n\n" + `*@example.com,!b@example.com namespaces="cognito-export,git",valid-after="20200101" ` + f[0] + " " + f[1] + " comment\n"
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := sshsig.LoadAllowedSigners(file)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Allow(parsed.PublicKey, sshsig.Namespace, "a@example.com", time.Now()); err != nil || len(p) != 1 {
		t.Errorf("allowed by a pattern: %v %v", p, err)
	}
	if p, err := a.Allow(parsed.PublicKey, sshsig.Namespace, "", time.Now()); err != nil || p[0] != "*@example.com,!b@example.com" {
		t.Errorf("any identity: %v %v", p, err)
	}
	if out, ok := sshkeygen.Verify(t, file, "a@example.com", sigFile, msgFile); !ok {
		t.Errorf("ssh-keygen refused: %s", out)
	}
}

// TestKeysRefused: a key with a passphrase, or of another type, says so.
func TestKeysRefused(t *testing.T) {
	sshkeygen.Require(t)
	dir := t.TempDir()
	enc := sshkeygen.GenerateEncrypted(t, dir, "enc", "correct horse")
	if _, err := sshsig.LoadSigner(enc.Private); !errors.Is(err, sshsig.ErrEncrypted) {
		t.Errorf("an encrypted key: %v", err)
	}
	ecdsa := sshkeygen.GenerateType(t, dir, "ec", "ecdsa")
	_, err := sshsig.LoadSigner(ecdsa.Private)
	if err == nil || !strings.Contains(err.Error(), "only ed25519") {
		t.Errorf("an ecdsa key: %v", err)
	}
	if _, err := sshsig.LoadSigner(ecdsa.Private + ".pub"); err == nil || !strings.Contains(err.Error(), "not an OpenSSH private key") {
		t.Errorf("a public key: %v", err)
	}
	if _, err := sshsig.LoadSigner(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
}

func TestSignerNeverPrintsTheKey(t *testing.T) {
	sshkeygen.Require(t)
	dir := t.TempDir()
	key := sshkeygen.Generate(t, dir, "k")
	s, err := sshsig.LoadSigner(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	for _, shown := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if !strings.Contains(shown, s.Fingerprint()) || strings.Contains(shown, "PRIVATE") {
			t.Errorf("the signer shows as %q", shown)
		}
	}
}
