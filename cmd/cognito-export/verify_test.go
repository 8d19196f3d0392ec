package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/s3server"
)

// demoExport writes a three-part export of the built-in emulator's pool.
func demoExport(t *testing.T, format string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	r := runCLI(t, cleanEnv(), "demo", "--users", "1200", "--format", format, "--part-rows", "700", "--output", out)
	if r.code != 0 {
		t.Fatalf("demo: exit %d: %s", r.code, r.stderr)
	}
	if parts, _ := filepath.Glob(filepath.Join(out, "part-*")); len(parts) < 3 {
		t.Fatalf("demo wrote %d parts, want 3 or more", len(parts))
	}
	return out
}

var intactLine = regexp.MustCompile(`(?m)^verify: intact: \d+ parts, [\d,]+ rows, [\d,]+ bytes, SHA-256 of manifest.json [0-9a-f]{64}$`)

func TestVerifyCLI(t *testing.T) {
	t.Parallel()
	damage := []struct {
		name string
		do   func(t *testing.T, dir, part string)
		want string // a line of stdout
	}{
		{"flipped byte", func(t *testing.T, dir, part string) {
			b, _ := os.ReadFile(filepath.Join(dir, part))
			b[len(b)/2] ^= 0x04
			os.WriteFile(filepath.Join(dir, part), b, 0o644)
		}, "PART: changed: SHA-256 "},
		{"truncated", func(t *testing.T, dir, part string) {
			os.Truncate(filepath.Join(dir, part), 100)
		}, "PART: size: 100 bytes, manifest.json says "},
		{"missing", func(t *testing.T, dir, part string) {
			os.Remove(filepath.Join(dir, part))
		}, "PART: missing: listed in manifest.json, not there"},
		{"extra", func(t *testing.T, dir, part string) {
			b, _ := os.ReadFile(filepath.Join(dir, part))
			os.WriteFile(filepath.Join(dir, strings.Replace(part, "00001", "00042", 1)), b, 0o644)
		}, "EXTRA: extra: not listed in manifest.json"},
	}
	for _, format := range []string{"parquet", "csv"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			dir := demoExport(t, format)
			part := "part-00001." + format
			r := runCLI(t, cleanEnv(), "verify", dir)
			if r.code != 0 || !intactLine.MatchString(r.stdout) {
				t.Fatalf("intact export: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			for _, d := range damage {
				t.Run(d.name, func(t *testing.T) {
					copyDir := filepath.Join(t.TempDir(), "copy")
					os.CopyFS(copyDir, os.DirFS(dir))
					d.do(t, copyDir, part)
					r := runCLI(t, cleanEnv(), "verify", copyDir)
					want := strings.NewReplacer("PART", part, "EXTRA", strings.Replace(part, "00001", "00042", 1)).Replace(d.want)
					if r.code != 1 || !strings.Contains(r.stdout, "\n"+want) && !strings.HasPrefix(r.stdout, want) ||
						!strings.Contains(lastLine(r.stdout), "verify: NOT intact: ") {
						t.Fatalf("exit %d, want 1 with a line %q and the verdict; stdout:\n%s\nstderr: %s", r.code, want, r.stdout, r.stderr)
					}
				})
			}
		})
	}
	t.Run("no export", func(t *testing.T) {
		t.Parallel()
		for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "nowhere")} {
			r := runCLI(t, cleanEnv(), "verify", dir)
			if r.code != 2 || !strings.Contains(r.stderr, "no complete export at "+dir) {
				t.Fatalf("verify %s: exit %d, stderr %q; want 2, no complete export", dir, r.code, r.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(t.TempDir(), "nowhere")); err == nil {
			t.Fatal("verify created the directory it was asked to check")
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"verify"}, {"verify", "a", "b"}, {"verify", "--bogus", "x", "a"}} {
			if r := runCLI(t, cleanEnv(), args...); r.code != 2 {
				t.Fatalf("%q: exit %d, want 2", args, r.code)
			}
		}
	})
}

func TestVerifyS3(t *testing.T) {
	t.Parallel()
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "exports")
	pool, url := startEmu(t, 1500, cognitoemu.Options{})
	loc := "s3://exports/cognito/run1/"
	r := runCLI(t, cleanEnv(s3srv.Env()...), "export", "--endpoint-url", url, "--user-pool-id", pool.ID(),
		"--output", loc, "--part-rows", "1000", "--rate", "UserResourceRead=0", "--rate", "UserList=0")
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, cleanEnv(s3srv.Env()...), "verify", loc)
	if r.code != 0 || !intactLine.MatchString(r.stdout) {
		t.Fatalf("intact export on S3: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// The region and endpoint as flags, and a part gone.
	_, err := s3srv.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("exports"), Key: aws.String("cognito/run1/part-00000.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	env := cleanEnv("AWS_ACCESS_KEY_ID="+s3srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3srv.SecretKey)
	r = runCLI(t, env, "verify", "--region", s3srv.Region, "--endpoint-url", s3srv.Endpoint, loc)
	if r.code != 1 || !strings.Contains(r.stdout, "part-00000.parquet: missing") {
		t.Fatalf("a part deleted: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, cleanEnv(s3srv.Env()...), "verify", "s3://exports/elsewhere/")
	if r.code != 2 || !strings.Contains(r.stderr, "no complete export at s3://exports/elsewhere/: no manifest.json") {
		t.Fatalf("empty prefix: exit %d, stderr %q", r.code, r.stderr)
	}
}
