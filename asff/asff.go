// Package asff turns an access review's findings into the AWS Security
// Finding Format, the shape Security Hub's BatchImportFindings takes: one
// ASFF finding per finding id and pool, with an Id stable across runs so
// that a re-import updates the finding instead of adding one, and a finding
// gone since the last report archived rather than left active.
package asff

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cognito-export/cognito-export/report"
)

// SchemaVersion is ASFF's only version.
const SchemaVersion = "2018-10-08"

// FindingType is where the findings sit in ASFF's namespace/category/
// classifier taxonomy.
const FindingType = "Software and Configuration Checks/AWS Security Best Practices/Cognito Group Membership Review"

// MaxRows is how many of a finding's rows go into each ASFF finding, as
// Resources and as ProductFields: enough to start triage, within the
// limits of both (32 resources, 50 product fields).
const MaxRows = 10

// Severity is ASFF's severity of a finding.
type Severity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

// Resource is one resource a finding is about: the pool, or one of the
// finding's first rows.
type Resource struct {
	Type      string            `json:"Type"`
	ID        string            `json:"Id"`
	Partition string            `json:"Partition,omitempty"`
	Region    string            `json:"Region,omitempty"`
	Details   *ResourceDetails  `json:"Details,omitempty"`
	Tags      map[string]string `json:"Tags,omitempty"`
}

// ResourceDetails holds a resource that has no type of its own in ASFF.
type ResourceDetails struct {
	Other map[string]string `json:"Other,omitempty"`
}

// Finding is one AWS Security Finding Format finding, with the members
// this program writes.
type Finding struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Types         []string          `json:"Types"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      Severity          `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	ProductFields map[string]string `json:"ProductFields,omitempty"`
	Resources     []Resource        `json:"Resources"`
	RecordState   string            `json:"RecordState"`
}

// Target says where the findings belong: the pool's account (12 digits),
// and its partition. The region is the pool's, from the report.
type Target struct {
	Account   string
	Partition string // "" is aws
}

// ProductArn is the ARN of Security Hub's default product of an account,
// the one an account's own integration imports findings under.
func ProductArn(partition, region, account string) string {
	if partition == "" {
		partition = "aws"
	}
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, account, account)
}

// Build makes the ASFF findings of r: one ACTIVE finding for each finding
// present (evaluated, with rows), and, for each finding that previous (the
// last report's ASFF) had active and r evaluated without rows, that finding
// ARCHIVED. A finding keeps the CreatedAt it had in previous.
func Build(r *report.Report, t Target, previous []Finding, now time.Time) ([]Finding, error) {
	if !accountPattern(t.Account) {
		return nil, fmt.Errorf("asff: account %q is not 12 digits", t.Account)
	}
	region, pool := r.Export.Region, r.Export.PoolID
	if region == "" || pool == "" {
		return nil, fmt.Errorf("asff: the export names no pool or region")
	}
	partition := t.Partition
	if partition == "" {
		partition = "aws"
	}
	stamp := now.UTC().Format("2006-01-02T15:04:05.000Z")
	before := map[string]Finding{}
	for _, f := range previous {
		before[f.ID] = f
	}
	product := ProductArn(partition, region, t.Account)
	poolArn := fmt.Sprintf("arn:%s:cognito-idp:%s:%s:userpool/%s", partition, region, t.Account, pool)
	var out []Finding
	for _, fd := range r.Findings {
		id := fmt.Sprintf("cognito-export/%s/%s/%s/%s", t.Account, region, pool, fd.ID)
		prev, had := before[id]
		switch {
		case fd.Evaluated && fd.Count > 0:
		case fd.Evaluated && had && prev.RecordState == "ACTIVE":
			prev.RecordState, prev.UpdatedAt = "ARCHIVED", stamp
			prev.ProductFields = withField(prev.ProductFields, "cognito-export/count", "0")
			out = append(out, prev)
			continue
		default:
			continue
		}
		f := Finding{
			SchemaVersion: SchemaVersion, ID: id, ProductArn: product, GeneratorID: "cognito-export/" + fd.ID,
			AwsAccountID: t.Account, Types: []string{FindingType}, CreatedAt: stamp, UpdatedAt: stamp,
			Severity: Severity{Label: label(fd.Severity), Original: string(fd.Severity)},
			Title:    clip(fd.Title, 256), RecordState: "ACTIVE",
			Description: clip(fmt.Sprintf("%s %d in pool %s (%s). %s", fd.Meaning, fd.Count, pool, region, fd.Why), 1024),
		}
		if had {
			f.CreatedAt = prev.CreatedAt
		}
		f.ProductFields = productFields(r, fd)
		poolDetails := nonBlank(map[string]string{"UserPoolId": pool, "PoolName": clip(r.Export.PoolName, 1024)})
		f.Resources = append([]Resource{{Type: "Other", ID: poolArn, Partition: partition, Region: region,
			Details: &ResourceDetails{Other: poolDetails}}}, rowResources(poolArn, partition, region, fd)...)
		out = append(out, f)
	}
	for _, f := range out {
		if err := Validate(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// label maps the report's severities onto ASFF's labels.
func label(s report.Severity) string {
	switch s {
	case report.High:
		return "HIGH"
	case report.Medium:
		return "MEDIUM"
	case report.Low:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// productFields are the count, the export it came from and the first rows,
// each row on one value ("username=…; group=…; detail=…").
func productFields(r *report.Report, fd report.Finding) map[string]string {
	pf := map[string]string{
		"cognito-export/count":           strconv.FormatInt(fd.Count, 10),
		"cognito-export/finding":         fd.ID,
		"cognito-export/export":          clip(r.Export.Location, 2048),
		"cognito-export/manifest_sha256": r.Export.ManifestSHA256,
		"cognito-export/exported_at":     r.Export.ExportedAt,
	}
	for i, row := range fd.Rows[:min(len(fd.Rows), MaxRows)] {
		var parts []string
		for _, kv := range [][2]string{{"username", row.Username}, {"sub", row.UserSub}, {"group", row.Group}, {fd.Detail, row.Detail}} {
			if kv[1] != "" {
				key := kv[0]
				if key == "" {
					key = "detail"
				}
				parts = append(parts, key+"="+kv[1])
			}
		}
		pf[fmt.Sprintf("cognito-export/row/%d", i)] = clip(strings.Join(parts, "; "), 2048)
	}
	return nonBlank(pf)
}

// nonBlank drops the pairs whose value is blank: Security Hub's maps take
// only values with a character that is not a space.
func nonBlank(m map[string]string) map[string]string {
	for k, v := range m {
		if strings.TrimSpace(v) == "" {
			delete(m, k)
		}
	}
	return m
}

// rowResources are the first rows as resources: the user, or the group
// when the row is about a group.
func rowResources(poolArn, partition, region string, fd report.Finding) []Resource {
	var out []Resource
	for _, row := range fd.Rows[:min(len(fd.Rows), MaxRows)] {
		other := map[string]string{}
		id := poolArn
		if row.Username != "" {
			other["Username"] = clip(row.Username, 1024)
			id += "/user/" + row.Username
		} else if row.Group != "" {
			id += "/group/" + row.Group
		}
		if row.UserSub != "" {
			other["UserSub"] = row.UserSub
		}
		if row.Group != "" {
			other["Group"] = clip(row.Group, 1024)
		}
		if row.Detail != "" {
			other["Detail"] = clip(row.Detail, 1024)
		}
		out = append(out, Resource{Type: "Other", ID: clip(id, 512), Partition: partition, Region: region, Details: &ResourceDetails{Other: nonBlank(other)}})
	}
	return out
}

func withField(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// clip cuts s to at most n characters, on a rune boundary, marking the
// cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func accountPattern(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Write writes findings as a JSON array, the shape of BatchImportFindings'
// Findings.
func Write(w io.Writer, findings []Finding) error {
	if findings == nil {
		findings = []Finding{}
	}
	data, err := json.MarshalIndent(findings, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// Read reads what Write wrote: the last report's findings.
func Read(r io.Reader) ([]Finding, error) {
	var out []Finding
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("asff: read the last report's findings: %w", err)
	}
	return out, nil
}
