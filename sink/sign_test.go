package sink

import (
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
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

func testSigner(t testing.TB) *sshsig.Signer {
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

// discard is a Putter that keeps nothing.
type discard struct{}

func (discard) Put(context.Context, string, []byte) error { return nil }

// BenchmarkManifest is what signing adds to the end of an export: the
// manifest of 1,000 parts (more than a 1M-user export rolls at the default
// part size) encoded and put, without and with its signature.
func BenchmarkManifest(b *testing.B) {
	m := Manifest{Format: "parquet"}
	for i := range 1000 {
		m.Parts = append(m.Parts, PartInfo{Name: fmt.Sprintf("part-%05d.parquet", i), Rows: 1000, Bytes: 1 << 20,
			SHA256: "39aa0e8a2f6b0ce8c3a2a1f1d07b2d5e4f1c0b9a8e7d6c5b4a3928171605f4e3"})
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		signer Signer
	}{{"unsigned", nil}, {"signed", testSigner(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if err := WriteSignedManifest(ctx, discard{}, "manifest.json", m, tc.signer); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
