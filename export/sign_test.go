package export_test

import (
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/sshsig"
)

// signer is an ed25519 key made from seed.
func signer(t *testing.T, seed byte) *sshsig.Signer {
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

// TestResumeWithAnotherSigningKeyIsRefused: one export has one signer. A
// resume with another key, or none, is refused before it writes; with
// the same key it completes, and the signature beside the manifest signs
// its exact bytes.
func TestResumeWithAnotherSigningKeyIsRefused(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 5, Seed: 46}, cognitoemu.Options{})
	a, b := signer(t, 1), signer(t, 2)
	cfg := interruptedExport(t, env, 2000, 300*time.Millisecond, func(c *export.Config) { c.Signer = a })
	for _, tc := range []struct {
		name   string
		signer *sshsig.Signer
		want   string
	}{
		{"another key", b, "was begun signed by key " + a.Fingerprint() + ", and this run signed by key " + b.Fingerprint()},
		{"no key", nil, "was begun signed by key " + a.Fingerprint() + ", and this run unsigned"},
	} {
		other := cfg
		other.Signer = nil // a nil *sshsig.Signer would not be a nil sink.Signer
		if tc.signer != nil {
			other.Signer = tc.signer
		}
		_, err := export.Run(context.Background(), other)
		if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Output, export.SignatureName)); err == nil {
		t.Fatal("a refused resume left a signature")
	}
	sum, err := export.Run(context.Background(), cfg)
	if err != nil || !sum.Complete || !sum.Resumed {
		t.Fatalf("the same key: %+v, %v", sum, err)
	}
	manifest, err := os.ReadFile(filepath.Join(cfg.Output, export.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	armored, err := os.ReadFile(filepath.Join(cfg.Output, export.SignatureName))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sshsig.ParseSignature(armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(sshsig.Namespace, manifest); err != nil || sig.Fingerprint() != a.Fingerprint() {
		t.Fatalf("signature by %s: %v", sig.Fingerprint(), err)
	}
	if !strings.Contains(string(manifest), `"signing_key": "`+a.Fingerprint()+`"`) {
		t.Error("the manifest does not name the key that signs it")
	}
}
