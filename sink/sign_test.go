package sink

import (
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/cognito-export/cognito-export/sshsig"
)

// puts records the files put, in order, and fails the one named fail.
type puts struct {
	names []string
	data  map[string][]byte
	fail  string
}

func (p *puts) Put(_ context.Context, name string, data []byte) error {
	if name == p.fail {
		return errors.New("disk full")
	}
	p.names = append(p.names, name)
	p.data[name] = data
	return nil
}

func testSigner(t *testing.T) *sshsig.Signer {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sshsig.ParsePrivateKey(pem.EncodeToMemory(block))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSignatureGoesFirstAndSignsTheExactBytes: the signature is written
// before the manifest and verifies against the manifest's bytes as
// written; a signature that cannot be written leaves no manifest.
func TestSignatureGoesFirstAndSignsTheExactBytes(t *testing.T) {
	ctx := context.Background()
	s := testSigner(t)
	p := &puts{data: map[string][]byte{}}
	if err := WriteSignedManifest(ctx, p, "manifest.json", Manifest{Format: "csv"}, s); err != nil {
		t.Fatal(err)
	}
	if len(p.names) != 2 || p.names[0] != "manifest.json.sig" || p.names[1] != "manifest.json" {
		t.Fatalf("written in the order %v", p.names)
	}
	sig, err := sshsig.ParseSignature(p.data["manifest.json.sig"])
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(sshsig.Namespace, p.data["manifest.json"]); err != nil {
		t.Fatalf("the signature does not sign the manifest written: %v", err)
	}
	if sig.Fingerprint() != s.Fingerprint() {
		t.Errorf("signed by %s, want %s", sig.Fingerprint(), s.Fingerprint())
	}

	failing := &puts{data: map[string][]byte{}, fail: "manifest.json.sig"}
	if err := WriteSignedManifest(ctx, failing, "manifest.json", Manifest{Format: "csv"}, s); err == nil {
		t.Fatal("a signature that could not be written did not fail the manifest")
	}
	if len(failing.names) != 0 {
		t.Fatalf("wrote %v without its signature", failing.names)
	}

	unsigned := &puts{data: map[string][]byte{}}
	if err := WriteManifest(ctx, unsigned, "manifest.json", Manifest{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	if len(unsigned.names) != 1 || unsigned.names[0] != "manifest.json" {
		t.Fatalf("unsigned wrote %v", unsigned.names)
	}
}
