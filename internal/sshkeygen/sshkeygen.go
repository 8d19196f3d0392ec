// Package sshkeygen lets tests hold signatures against OpenSSH's own
// ssh-keygen (Debian's openssh-client, installed by
// scripts/install-test-deps.sh): it makes the keys, signs as an auditor's
// tooling would, and checks our signatures with `ssh-keygen -Y verify`,
// the command an auditor runs. Only tests import it.
package sshkeygen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// InstallHint says how to make Require pass.
const InstallHint = "run scripts/install-test-deps.sh (apt-get install openssh-client)"

// Require skips or fails t when ssh-keygen is missing: a skip under -short,
// a failure when COGNITO_EXPORT_REQUIRE_PEERS=1.
func Require(t testing.TB) {
	t.Helper()
	peer.Start(t, "ssh-keygen")
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		peer.Missing(t, fmt.Errorf("ssh-keygen not found on PATH: %s", InstallHint))
	}
}

// Key is a key pair ssh-keygen made.
type Key struct {
	Private string // the private key's file
	Public  string // its public key line: "ssh-ed25519 AAAA... comment"
}

// Base64 is the public key's base64 field.
func (k Key) Base64() string { return strings.Fields(k.Public)[1] }

// Generate makes an ed25519 key without a passphrase in dir, as an
// operator would with ssh-keygen -t ed25519 and an empty passphrase (-N).
func Generate(t testing.TB, dir, name string) Key {
	t.Helper()
	path := filepath.Join(dir, name)
	run(t, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path)
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return Key{Private: path, Public: strings.TrimSpace(string(pub))}
}

// GenerateEncrypted makes an ed25519 key protected by passphrase.
func GenerateEncrypted(t testing.TB, dir, name, passphrase string) Key {
	t.Helper()
	path := filepath.Join(dir, name)
	run(t, "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", path)
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return Key{Private: path, Public: strings.TrimSpace(string(pub))}
}

// AllowedSigners writes an allowed_signers file in dir that lets identity
// sign with each key, in the namespace cognito-export, and returns its path.
func AllowedSigners(t testing.TB, dir, identity string, keys ...Key) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		f := strings.Fields(k.Public)
		fmt.Fprintf(&b, "%s namespaces=\"cognito-export\" %s %s\n", identity, f[0], f[1])
	}
	path := filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Verify runs the auditor's command,
// ssh-keygen -Y verify -f allowed -I identity -n cognito-export -s sig < message,
// and returns its output and whether it said the signature is good.
func Verify(t testing.TB, allowed, identity, sig, message string) (string, bool) {
	t.Helper()
	msg, err := os.Open(message)
	if err != nil {
		t.Fatal(err)
	}
	defer msg.Close()
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowed, "-I", identity, "-n", "cognito-export", "-s", sig)
	cmd.Stdin = msg
	out, err := cmd.CombinedOutput()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("ssh-keygen -Y verify: %v", err)
	}
	return string(out), err == nil
}

// Sign signs message with key in namespace, as ssh-keygen -Y sign does,
// and returns the armored signature. It signs a copy in a directory of its
// own: ssh-keygen does not replace a .sig that is there.
func Sign(t testing.TB, key Key, namespace string, message []byte) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "message")
	if err := os.WriteFile(file, message, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "-Y", "sign", "-f", key.Private, "-n", namespace, file)
	sig, err := os.ReadFile(file + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("ssh-keygen", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// GenerateType makes a key of another type (ecdsa, rsa) without a
// passphrase.
func GenerateType(t testing.TB, dir, name, typ string) Key {
	t.Helper()
	path := filepath.Join(dir, name)
	run(t, "-q", "-t", typ, "-N", "", "-C", name, "-f", path)
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return Key{Private: path, Public: strings.TrimSpace(string(pub))}
}

// Fingerprint is the key's fingerprint as ssh-keygen -l prints it
// (SHA256:...), for a test to compare with what we show.
func Fingerprint(t testing.TB, key Key) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", key.Private+".pub").Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 || !strings.HasPrefix(f[1], "SHA256:") {
		t.Fatalf("ssh-keygen -l printed %q", out)
	}
	return f[1]
}
