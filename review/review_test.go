package review_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/diff"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// exportTwice exports one emulated pool twice, into dir/dt=1 and dir/dt=2.
func exportTwice(t *testing.T) (dir, first, second string) {
	t.Helper()
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, cognitoemu.NewPool(cognitoemu.PoolSpec{ID: "us-east-1_Review", Users: 30, Groups: 3, Seed: 5})))
	t.Cleanup(hs.Close)
	dir = t.TempDir()
	for _, name := range []string{"dt=1", "dt=2"} {
		_, err := export.Run(context.Background(), export.Config{UserPoolID: "us-east-1_Review", Output: filepath.Join(dir, name),
			Strategy: export.StrategyPerUser, Format: "csv", Concurrency: 4, PageSize: 60, UsersWithoutGroups: true, Limits: ratelimit.Unlimited(),
			Client: cognito.Config{Region: "us-east-1", EndpointURL: hs.URL, MaxAttempts: 2,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "test-secret", "")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(dir, "dt=1"), filepath.Join(dir, "dt=2")
}

func usage(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || fault.KindOf(err) != fault.Usage {
		t.Fatalf("error %v, want a usage error with %q", err, want)
	}
}

// A diff refuses a format it cannot write, a side that is no export, and
// an output that already holds a complete diff, each as the user's to fix.
func TestDiffRefusesWhatItCannotDo(t *testing.T) {
	dir, first, second := exportTwice(t)
	ctx, out := context.Background(), filepath.Join(dir, "diff")
	_, err := review.Diff(ctx, first, second, out, diff.Options{Format: "xml"}, s3dest.Options{})
	usage(t, err, `--format "xml": use parquet or csv`)
	_, err = review.Diff(ctx, filepath.Join(dir, "dt=0"), second, out, diff.Options{Format: "csv"}, s3dest.Options{})
	usage(t, err, "no complete export at")
	sum, err := review.Diff(ctx, first, second, out, diff.Options{Format: "csv"}, s3dest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	review.PrintDiff(&text, sum, out)
	if !strings.Contains(text.String(), "written: 0 change rows in ") || !strings.HasSuffix(text.String(), " to "+out+"\n") {
		t.Fatalf("printed:\n%s", &text)
	}
	_, err = review.Diff(ctx, first, second, out, diff.Options{Format: "csv"}, s3dest.Options{})
	usage(t, err, "already holds a complete diff or export")
}

// A report writes report.json beside the page it names (a directory gets
// report.html); it is compared with the latest earlier export when asked,
// and asking for a comparison there is none for is the user's to fix.
func TestReport(t *testing.T) {
	_, first, second := exportTwice(t)
	ctx, pages := context.Background(), t.TempDir()
	opts := review.ReportOptions{Options: report.Options{MaxGroupsPerUser: 10, MaxListed: 10, MaxFindingRows: 10}, Output: pages + "/", Against: "latest"}
	var stdout bytes.Buffer
	usage(t, review.Report(ctx, first, opts, s3dest.Options{}, &stdout), "no earlier complete export of pool us-east-1_Review beside")
	if err := review.Report(ctx, second, opts, s3dest.Options{}, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.html", "report.json"} {
		if _, err := os.Stat(filepath.Join(pages, name)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(stdout.String(), "report: "+filepath.Join(pages, "report.html")+" and report.json (") {
		t.Fatalf("printed %q", &stdout)
	}
	data, err := os.ReadFile(filepath.Join(pages, "report.json"))
	if err != nil || !strings.Contains(string(data), `"location": "`+first+`"`) {
		t.Fatalf("report.json does not compare with %s (%v)", first, err)
	}
}

// --fail-on gates on the findings it names: present, the report is still
// written and the error names them; absent, or named wrongly, it is not a
// gate. A place without an export is the user's to fix; an export that is
// not intact is refused, pointing at verify, and no page is written.
func TestReportGatesAndRefusals(t *testing.T) {
	dir, _, second := exportTwice(t)
	ctx := context.Background()
	opts := func(pages string, failOn ...string) review.ReportOptions {
		return review.ReportOptions{Options: report.Options{MaxGroupsPerUser: 10, MaxListed: 10, MaxFindingRows: 10}, Output: pages + "/", FailOn: failOn}
	}
	var stdout bytes.Buffer
	pages := t.TempDir()
	err := review.Report(ctx, second, opts(pages, "EMPTY_GROUP", "DISABLED_WITH_GROUPS"), s3dest.Options{}, &stdout)
	var gate review.FindingsError
	if !errors.As(err, &gate) || !slices.Equal(gate.Present, []string{"DISABLED_WITH_GROUPS"}) ||
		err.Error() != "report: findings named by --fail-on are present: DISABLED_WITH_GROUPS" {
		t.Fatalf("error %v, want the gate on DISABLED_WITH_GROUPS alone", err)
	}
	if _, err := os.Stat(filepath.Join(pages, "report.html")); err != nil {
		t.Fatalf("a gated report is not written: %v", err)
	}
	if err := review.Report(ctx, second, opts(t.TempDir(), "EMPTY_GROUP"), s3dest.Options{}, &stdout); err != nil {
		t.Fatalf("a finding not present gates: %v", err)
	}
	usage(t, review.Report(ctx, second, opts(t.TempDir(), "NO_SUCH_FINDING"), s3dest.Options{}, &stdout), "--fail-on")
	usage(t, review.Report(ctx, filepath.Join(dir, "dt=0"), opts(t.TempDir()), s3dest.Options{}, &stdout), "no complete export at")

	parts, err := filepath.Glob(filepath.Join(second, "part-*"))
	if err != nil || len(parts) == 0 {
		t.Fatalf("no parts in %s (%v)", second, err)
	}
	if err := os.WriteFile(parts[0], []byte("tampered\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pages = t.TempDir()
	err = review.Report(ctx, second, opts(pages), s3dest.Options{}, &stdout)
	if err == nil || fault.KindOf(err) == fault.Usage || !strings.Contains(err.Error(), "is not intact") || !strings.Contains(err.Error(), "cognito-export verify "+second) {
		t.Fatalf("error %v, want a refusal that points at verify", err)
	}
	if entries, _ := os.ReadDir(pages); len(entries) > 0 {
		t.Fatalf("a report of a tampered export wrote %d files", len(entries))
	}
}
