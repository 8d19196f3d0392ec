package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/sshkeygen"
)

// keyMaterial are the private key file's base64 lines: what must never
// appear in a log or an output.
func keyMaterial(t *testing.T, key sshkeygen.Key) []string {
	t.Helper()
	data, err := os.ReadFile(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no key material in the key file")
	}
	return lines
}

// noKeyIn fails t when any line of the key is in text or in a file under
// dir.
func noKeyIn(t *testing.T, material []string, dir string, texts ...string) {
	t.Helper()
	check := func(where, s string) {
		for _, l := range material {
			if strings.Contains(s, l) {
				t.Fatalf("the private key's bytes are in %s", where)
			}
		}
	}
	for i, s := range texts {
		check("output "+string(rune('0'+i)), s)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		check(path, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSignedExportVerifiesBothWays is the auditor's view: a signed export
// passes verify --allowed-signers and OpenSSH's ssh-keygen -Y verify; one
// byte of its manifest changed fails both; an unsigned export, or one
// signed by a key the file does not allow, fails verify; the diff is
// signed the same way; and the key is in no log and no file written.
func TestSignedExportVerifiesBothWays(t *testing.T) {
	sshkeygen.Require(t)
	t.Parallel()
	keys := t.TempDir()
	key, other := sshkeygen.Generate(t, keys, "auditkey"), sshkeygen.Generate(t, keys, "otherkey")
	allowed := sshkeygen.AllowedSigners(t, keys, "audit@example.com", key)
	material := keyMaterial(t, key)

	pool, url := startEmu(t, 400, cognitoemu.Options{})
	env := cleanEnv(append(creds(), "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="+url)...)
	root := t.TempDir()
	day1, day2 := filepath.Join(root, "day1"), filepath.Join(root, "day2")
	r := runCLI(t, env, "export", "--user-pool-id", pool.ID(), "--output", day1, "--signing-key", key.Private,
		"--part-rows", "300", "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("signed export: exit %d: %s", r.code, r.stderr)
	}
	noKeyIn(t, material, day1, r.stdout, r.stderr)
	fp := sshkeygen.Fingerprint(t, key)
	if !strings.Contains(r.stderr, `"signing_key":"`+fp+`"`) {
		t.Errorf("the log does not name the key's fingerprint %s", fp)
	}
	// Run again with another key: the export is complete, and the run says
	// that its key signs nothing there.
	r = runCLI(t, env, "export", "--user-pool-id", pool.ID(), "--output", day1, "--signing-key", other.Private,
		"--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 || !strings.Contains(r.stderr, "is signed by key "+fp+", not by this run's key") {
		t.Fatalf("complete export, another key: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, env, "export", "--dry-run", "--user-pool-id", pool.ID(), "--output", filepath.Join(root, "dry"), "--signing-key", key.Private)
	if r.code != 0 || !strings.Contains(r.stdout, "signing key "+fp+": read; the manifest would be signed") {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The key's file from the environment, as a scheduled job passes it;
	// and the diff against day 1, signed with it.
	r = runCLI(t, append(env, signingKeyEnv+"="+key.Private), "export", "--user-pool-id", pool.ID(), "--output", day2,
		"--diff-against", day1, "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("signed export from the environment: exit %d: %s", r.code, r.stderr)
	}
	noKeyIn(t, material, day2, r.stdout, r.stderr)

	for _, dir := range []string{day1, day2, filepath.Join(day2, "diff")} {
		r := runCLI(t, cleanEnv(), "verify", "--allowed-signers", allowed, "--signer-identity", "audit@example.com", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "verify: signed by key ") || !strings.Contains(r.stdout, "allowed by "+allowed+" as audit@example.com") {
			t.Fatalf("verify %s: exit %d\n%s%s", dir, r.code, r.stdout, r.stderr)
		}
		noKeyIn(t, material, dir, r.stdout, r.stderr)
		if out, ok := sshkeygen.Verify(t, allowed, "audit@example.com", filepath.Join(dir, "manifest.json.sig"), filepath.Join(dir, "manifest.json")); !ok {
			t.Fatalf("ssh-keygen -Y verify refused %s: %s", dir, out)
		}
	}

	// One byte of the manifest changed, the parts untouched: both refuse.
	tampered := filepath.Join(t.TempDir(), "tampered")
	if err := os.CopyFS(tampered, os.DirFS(day1)); err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(tampered, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(m), `"generator": "`) + len(`"generator": "`)
	m[i] ^= 0x20 // cognito-export -> Cognito-export
	if err := os.WriteFile(filepath.Join(tampered, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, cleanEnv(), "verify", "--allowed-signers", allowed, tampered)
	if r.code != 1 || !strings.Contains(r.stdout, "manifest.json.sig: signature: does not sign this manifest.json") ||
		lastLine(r.stdout) != "verify: NOT trusted: the parts match manifest.json, but its signature is bad" {
		t.Fatalf("tampered manifest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Even without --allowed-signers, a signature that does not sign the
	// manifest is caught.
	if r = runCLI(t, cleanEnv(), "verify", tampered); r.code != 1 {
		t.Fatalf("tampered manifest without --allowed-signers: exit %d\n%s", r.code, r.stdout)
	}
	if out, ok := sshkeygen.Verify(t, allowed, "audit@example.com", filepath.Join(tampered, "manifest.json.sig"), filepath.Join(tampered, "manifest.json")); ok {
		t.Fatalf("ssh-keygen -Y verify accepted a changed manifest: %s", out)
	}

	// Signed by a key the file does not allow, or for another identity.
	otherAllowed := sshkeygen.AllowedSigners(t, t.TempDir(), "audit@example.com", other)
	r = runCLI(t, cleanEnv(), "verify", "--allowed-signers", otherAllowed, day1)
	if r.code != 1 || !strings.Contains(r.stdout, "manifest.json.sig: untrusted: the signer is not allowed: key ") ||
		!strings.Contains(lastLine(r.stdout), "NOT trusted") {
		t.Fatalf("untrusted signer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, cleanEnv(), "verify", "--allowed-signers", allowed, "--signer-identity", "mallory@example.com", day1)
	if r.code != 1 || !strings.Contains(r.stdout, `but not for identity "mallory@example.com"`) {
		t.Fatalf("another identity: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Unsigned: fine without --allowed-signers, exit 1 with it.
	unsigned := filepath.Join(root, "unsigned")
	if r = runCLI(t, env, "export", "--user-pool-id", pool.ID(), "--output", unsigned, "--rate", "UserResourceRead=0", "--rate", "UserList=0"); r.code != 0 {
		t.Fatalf("unsigned export: exit %d: %s", r.code, r.stderr)
	}
	if r = runCLI(t, cleanEnv(), "verify", unsigned); r.code != 0 || !strings.Contains(r.stdout, "verify: not signed\n") {
		t.Fatalf("unsigned without --allowed-signers: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, cleanEnv(), "verify", "--allowed-signers", allowed, unsigned)
	if r.code != 1 || !strings.Contains(r.stdout, "manifest.json.sig: unsigned: not there") || lastLine(r.stdout) != "verify: NOT trusted: the parts match manifest.json, but its signature is missing" {
		t.Fatalf("unsigned under --allowed-signers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// report --allowed-signers refuses it too.
	r = runCLI(t, cleanEnv(), "report", unsigned, "--allowed-signers", allowed, "--output", filepath.Join(t.TempDir(), "r.html"))
	if r.code != 1 || !strings.Contains(r.stderr, "is not signed as required") {
		t.Fatalf("report of an unsigned export under --allowed-signers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSigningKeyRefusals: a key that cannot sign is refused before any
// call, in one line that never quotes the key.
func TestSigningKeyRefusals(t *testing.T) {
	sshkeygen.Require(t)
	t.Parallel()
	dir := t.TempDir()
	enc := sshkeygen.GenerateEncrypted(t, dir, "enc", "a passphrase")
	ec := sshkeygen.GenerateType(t, dir, "ec", "ecdsa")
	pasted, err := os.ReadFile(sshkeygen.Generate(t, dir, "pasted").Private)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"export", "--user-pool-id", "us-east-1_AbCdEf123", "--output", filepath.Join(dir, "out")}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"encrypted", nil, []string{"--signing-key", enc.Private}, "encrypted with a passphrase"},
		{"ecdsa", nil, []string{"--signing-key", ec.Private}, "only ed25519 keys sign exports"},
		{"missing", nil, []string{"--signing-key", filepath.Join(dir, "none")}, "no such file"},
		{"the key itself in the variable", []string{signingKeyEnv + "=" + string(pasted)}, nil, "holds what looks like the key itself"},
		{"the key itself in the flag's variable", []string{"COGNITO_EXPORT_SIGNING_KEY=" + string(pasted)}, nil, "holds what looks like the key itself"},
	} {
		r := runCLI(t, cleanEnv(append(creds(), tc.env...)...), append(base, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, strings.Split(string(pasted), "\n")[1]) {
			t.Errorf("%s: the key is in the error", tc.name)
		}
	}
	r := runCLI(t, cleanEnv(), "verify", "--signer-identity", "a@example.com", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "--signer-identity names a principal of --allowed-signers") {
		t.Errorf("--signer-identity alone: exit %d, %s", r.code, r.stderr)
	}
}
