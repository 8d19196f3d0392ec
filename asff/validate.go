package asff

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The limits of BatchImportFindings and of AwsSecurityFinding's members, as
// the AWS Security Hub API reference states them.
const (
	MaxBatch       = 100       // findings in one BatchImportFindings request
	MaxFindingSize = 240 << 10 // bytes of one finding
)

// namespaces are ASFF's finding type namespaces.
var namespaces = []string{"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications"}

// timestamp is Security Hub's timestamp format: RFC 3339 with Z or an
// offset, at most 9 digits of fraction.
var timestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$`)

// Validate checks f against what BatchImportFindings requires of a finding
// (the required members, their types, formats and lengths) before it is
// written or sent: a finding Security Hub would refuse is a bug here, not
// something to find out from the import's FailedFindings.
func Validate(f Finding) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("asff: finding %q: %s", f.ID, fmt.Sprintf(format, args...))
	}
	text := func(name, v string, max int) error {
		switch n := utf8.RuneCountInString(v); {
		case strings.TrimSpace(v) == "":
			return fail("%s is required", name)
		case max > 0 && n > max:
			return fail("%s has %d characters, over %d", name, n, max)
		}
		return nil
	}
	for _, c := range []struct {
		name, v string
		max     int
	}{{"SchemaVersion", f.SchemaVersion, 0}, {"Id", f.ID, 512}, {"ProductArn", f.ProductArn, 0}, {"GeneratorId", f.GeneratorID, 512},
		{"Title", f.Title, 256}, {"Description", f.Description, 1024}} {
		if err := text(c.name, c.v, c.max); err != nil {
			return err
		}
	}
	if f.SchemaVersion != SchemaVersion {
		return fail("SchemaVersion %q, want %s", f.SchemaVersion, SchemaVersion)
	}
	if !accountPattern(f.AwsAccountID) {
		return fail("AwsAccountId %q is not 12 digits", f.AwsAccountID)
	}
	if !strings.Contains(f.ProductArn, ":securityhub:") || !strings.HasPrefix(f.ProductArn, "arn:") {
		return fail("ProductArn %q is not a Security Hub product ARN", f.ProductArn)
	}
	for _, ts := range [][2]string{{"CreatedAt", f.CreatedAt}, {"UpdatedAt", f.UpdatedAt}} {
		if !timestamp.MatchString(ts[1]) {
			return fail("%s %q is not a Security Hub timestamp", ts[0], ts[1])
		}
	}
	created, _ := time.Parse(time.RFC3339Nano, f.CreatedAt)
	updated, _ := time.Parse(time.RFC3339Nano, f.UpdatedAt)
	if updated.Before(created) {
		return fail("UpdatedAt is before CreatedAt")
	}
	if len(f.Types) == 0 || len(f.Types) > 50 {
		return fail("%d Types, want 1 to 50", len(f.Types))
	}
	for _, t := range f.Types {
		parts := strings.Split(t, "/")
		if len(parts) < 2 || len(parts) > 3 || !slices.Contains(namespaces, parts[0]) {
			return fail("type %q is not namespace/category[/classifier]", t)
		}
	}
	if !slices.Contains([]string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}, f.Severity.Label) {
		return fail("Severity.Label %q", f.Severity.Label)
	}
	if f.RecordState != "ACTIVE" && f.RecordState != "ARCHIVED" {
		return fail("RecordState %q", f.RecordState)
	}
	if err := fields(f.ProductFields, 50, 128, 2048); err != nil {
		return fail("ProductFields: %v", err)
	}
	if len(f.Resources) == 0 || len(f.Resources) > 32 {
		return fail("%d Resources, want 1 to 32", len(f.Resources))
	}
	for i, r := range f.Resources {
		if strings.TrimSpace(r.Type) == "" || strings.TrimSpace(r.ID) == "" || utf8.RuneCountInString(r.ID) > 512 {
			return fail("Resources[%d] needs a Type and an Id of at most 512 characters", i)
		}
		if r.Partition != "" && !slices.Contains([]string{"aws", "aws-cn", "aws-us-gov"}, r.Partition) {
			return fail("Resources[%d].Partition %q", i, r.Partition)
		}
		if r.Details != nil {
			if err := fields(r.Details.Other, 50, 128, 1024); err != nil {
				return fail("Resources[%d].Details.Other: %v", i, err)
			}
		}
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if len(data) > MaxFindingSize {
		return fail("%d bytes, over Security Hub's %d", len(data), MaxFindingSize)
	}
	return nil
}

// fields checks a map of strings against Security Hub's limits.
func fields(m map[string]string, maxPairs, maxKey, maxValue int) error {
	if len(m) > maxPairs {
		return fmt.Errorf("%d pairs, over %d", len(m), maxPairs)
	}
	for k, v := range m {
		if strings.TrimSpace(k) == "" || utf8.RuneCountInString(k) > maxKey {
			return fmt.Errorf("key %q: 1 to %d characters", k, maxKey)
		}
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > maxValue {
			return fmt.Errorf("value of %q: 1 to %d characters, not all spaces", k, maxValue)
		}
	}
	return nil
}
