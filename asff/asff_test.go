package asff

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/report"
)

func sampleReport(counts map[string]int64) *report.Report {
	r := &report.Report{Export: report.ExportRef{Location: "s3://audit/p/dt=1/", PoolID: "eu-west-1_Pool", Region: "eu-west-1",
		ExportedAt: "2026-12-01T02:00:00Z", ManifestSHA256: "ab12"}}
	for _, c := range []struct {
		id  string
		sev report.Severity
	}{{"DISABLED_WITH_GROUPS", report.High}, {"SHARED_ROLE_ARN", report.Medium}, {"EMPTY_GROUP", report.Low}, {"PRIVILEGED_MEMBERS_ADDED", report.High}} {
		n, evaluated := counts[c.id]
		fd := report.Finding{ID: c.id, Severity: c.sev, Title: "title of " + c.id, Meaning: "meaning.", Why: "why.", Evaluated: evaluated, Count: n, Detail: "role ARN"}
		for i := range min(n, 15) {
			fd.Rows = append(fd.Rows, report.FindingRow{Username: fmt.Sprintf("user-%d", i), UserSub: "sub", Group: "admins", Detail: "arn:aws:iam::1:role/x"})
		}
		r.Findings = append(r.Findings, fd)
	}
	return r
}

// TestBuildIsStableAndArchivesWhatIsGone: the same report twice gives the
// same Ids (an update, not a duplicate), the first CreatedAt kept; a
// finding evaluated without rows the next time is archived, and one not
// evaluated is left as it was.
func TestBuildIsStableAndArchivesWhatIsGone(t *testing.T) {
	target := Target{Account: "111122223333"}
	day1 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	first, err := Build(sampleReport(map[string]int64{"DISABLED_WITH_GROUPS": 15, "SHARED_ROLE_ARN": 2, "EMPTY_GROUP": 0}), target, nil, day1)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("%d findings, want the 2 present", len(first))
	}
	f := first[0]
	if f.ID != "cognito-export/111122223333/eu-west-1/eu-west-1_Pool/DISABLED_WITH_GROUPS" || f.Severity.Label != "HIGH" || first[1].Severity.Label != "MEDIUM" ||
		f.ProductArn != "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default" || f.RecordState != "ACTIVE" {
		t.Fatalf("finding %+v", f)
	}
	if len(f.Resources) != 1+MaxRows || f.ProductFields["cognito-export/count"] != "15" || f.ProductFields["cognito-export/row/9"] == "" ||
		f.ProductFields["cognito-export/row/10"] != "" || !strings.Contains(f.ProductFields["cognito-export/row/0"], "username=user-0; sub=sub; group=admins; role ARN=arn:") {
		t.Fatalf("resources %d, product fields %v", len(f.Resources), f.ProductFields)
	}
	var buf bytes.Buffer
	if err := Write(&buf, first); err != nil {
		t.Fatal(err)
	}
	previous, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	day2 := day1.Add(24 * time.Hour)
	// DISABLED_WITH_GROUPS stays, SHARED_ROLE_ARN is gone, EMPTY_GROUP
	// appears, PRIVILEGED_MEMBERS_ADDED is not evaluated.
	second, err := Build(sampleReport(map[string]int64{"DISABLED_WITH_GROUPS": 3, "SHARED_ROLE_ARN": 0, "EMPTY_GROUP": 1}), target, previous, day2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Finding{}
	for _, f := range second {
		got[f.GeneratorID] = f
	}
	if len(second) != 3 {
		t.Fatalf("%d findings: %v", len(second), got)
	}
	kept, gone, added := got["cognito-export/DISABLED_WITH_GROUPS"], got["cognito-export/SHARED_ROLE_ARN"], got["cognito-export/EMPTY_GROUP"]
	if kept.ID != first[0].ID || kept.CreatedAt != "2026-12-01T02:00:00.000Z" || kept.UpdatedAt != "2026-12-02T02:00:00.000Z" || kept.ProductFields["cognito-export/count"] != "3" {
		t.Errorf("kept finding %+v", kept)
	}
	if gone.ID != first[1].ID || gone.RecordState != "ARCHIVED" || gone.UpdatedAt != "2026-12-02T02:00:00.000Z" || gone.ProductFields["cognito-export/count"] != "0" {
		t.Errorf("gone finding %+v", gone)
	}
	if added.RecordState != "ACTIVE" || added.Severity.Label != "LOW" || added.CreatedAt != "2026-12-02T02:00:00.000Z" {
		t.Errorf("new finding %+v", added)
	}
	// An archived finding is not archived again.
	var buf2 bytes.Buffer
	Write(&buf2, second)
	previous, _ = Read(&buf2)
	third, err := Build(sampleReport(map[string]int64{"DISABLED_WITH_GROUPS": 3, "SHARED_ROLE_ARN": 0, "EMPTY_GROUP": 1}), target, previous, day2.Add(time.Hour))
	if err != nil || len(third) != 2 {
		t.Fatalf("third run: %d findings, %v", len(third), err)
	}
	if _, err := Build(sampleReport(nil), Target{Account: "1234"}, nil, day1); err == nil {
		t.Fatal("an account of 4 digits was taken")
	}
}

// TestValidateRefusesWhatSecurityHubRefuses: each broken finding fails for
// its reason.
func TestValidateRefusesWhatSecurityHubRefuses(t *testing.T) {
	good, err := Build(sampleReport(map[string]int64{"DISABLED_WITH_GROUPS": 2}), Target{Account: "111122223333"}, nil, time.Now())
	if err != nil || len(good) != 1 {
		t.Fatal(err)
	}
	if err := Validate(good[0]); err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprint(i)] = "v"
	}
	for _, tc := range []struct {
		name   string
		change func(*Finding)
		want   string
	}{
		{"no title", func(f *Finding) { f.Title = " " }, "Title is required"},
		{"long title", func(f *Finding) { f.Title = strings.Repeat("t", 257) }, "over 256"},
		{"long description", func(f *Finding) { f.Description = strings.Repeat("d", 1025) }, "over 1024"},
		{"schema", func(f *Finding) { f.SchemaVersion = "2020-01-01" }, "SchemaVersion"},
		{"account", func(f *Finding) { f.AwsAccountID = "12345678901x" }, "AwsAccountId"},
		{"time", func(f *Finding) { f.UpdatedAt = "2026-12-01 02:00:00" }, "UpdatedAt"},
		{"order", func(f *Finding) { f.CreatedAt = "2099-01-01T00:00:00Z" }, "before CreatedAt"},
		{"type", func(f *Finding) { f.Types = []string{"Access Review/Cognito"} }, "namespace/category"},
		{"severity", func(f *Finding) { f.Severity.Label = "SEVERE" }, "Severity.Label"},
		{"record state", func(f *Finding) { f.RecordState = "GONE" }, "RecordState"},
		{"no resources", func(f *Finding) { f.Resources = nil }, "Resources"},
		{"resource id", func(f *Finding) { f.Resources[1].ID = "" }, "Resources[1]"},
		{"blank field", func(f *Finding) { f.ProductFields["x"] = " " }, "ProductFields"},
		{"51 fields", func(f *Finding) { f.ProductFields = many }, "51 pairs"},
	} {
		f := good[0]
		f.Resources = append([]Resource(nil), f.Resources...)
		f.ProductFields = map[string]string{"a": "b"}
		tc.change(&f)
		if err := Validate(f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
