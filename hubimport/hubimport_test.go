package hubimport_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/asff"
	"github.com/cognito-export/cognito-export/hubimport"
	"github.com/cognito-export/cognito-export/internal/hubemu"
)

const account = "111122223333"

func hubClient(t *testing.T, hub *hubemu.Server) *hubimport.Client {
	t.Helper()
	srv := httptest.NewServer(hub)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECURITYHUB", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hub-test-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	c, err := hubimport.New(context.Background(), hub.Region)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func finding(i int) asff.Finding {
	now := time.Now().UTC().Format(time.RFC3339)
	return asff.Finding{SchemaVersion: asff.SchemaVersion, ID: fmt.Sprintf("cognito-export/test/%03d", i),
		ProductArn: asff.ProductArn("", "eu-west-1", account), GeneratorID: "cognito-export/TEST", AwsAccountID: account,
		Types: []string{asff.FindingType}, CreatedAt: now, UpdatedAt: now, Severity: asff.Severity{Label: "LOW"},
		Title: "t", Description: "d", RecordState: "ACTIVE", Resources: []asff.Resource{{Type: "Other", ID: "pool"}}}
}

// TestImportInBatchesOfAHundred: 250 findings are three requests, every one
// stored; sent again they update, not duplicate.
func TestImportInBatchesOfAHundred(t *testing.T) {
	hub := hubemu.New(account, "eu-west-1")
	c := hubClient(t, hub)
	var fs []asff.Finding
	for i := range 250 {
		fs = append(fs, finding(i))
	}
	res, err := c.Import(context.Background(), fs)
	if err != nil || res.Imported != 250 || res.Batches != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if _, err := c.Import(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	requests, updates := hub.Requests()
	if n := len(hub.Findings()); n != 250 || requests != 6 || updates != 250 {
		t.Fatalf("%d stored, %d requests, %d updates; want 250, 6, 250", n, requests, updates)
	}
}

// TestRefusedFindingsAreNamed: Security Hub's answer for a finding it
// refuses (a title too long, another account's finding) is an error that
// names them and says why; the good ones are still imported.
func TestRefusedFindingsAreNamed(t *testing.T) {
	hub := hubemu.New(account, "eu-west-1")
	c := hubClient(t, hub)
	long, other := finding(1), finding(2)
	long.Title = strings.Repeat("x", 300)
	other.AwsAccountID = "444455556666"
	_, err := c.Import(context.Background(), []asff.Finding{finding(0), long, other})
	if err == nil {
		t.Fatal("refused findings did not fail the import")
	}
	for _, want := range []string{"refused 2 of 3", "cognito-export/test/001: InvalidInput", "data.Title should NOT be longer than 256", "cognito-export/test/002: AccessDeniedException"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(hub.Findings()); n != 1 {
		t.Fatalf("%d stored, want the good one", n)
	}
}
