// Package hubemu is a small emulator of AWS Security Hub's
// BatchImportFindings for tests: the REST-JSON wire protocol the SDK
// speaks (POST /findings/import), the request limit, and the per-finding
// validation Security Hub answers with in FailedFindings (required
// members, types, lengths, formats, the product and account the caller
// may import for). It keeps the findings by (ProductArn, Id), so a test
// sees an import and its update. Written from the AWS Security Hub API
// reference, independently of package asff, whose findings it judges.
package hubemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Server answers BatchImportFindings for one account in one region.
type Server struct {
	Account, Region string

	mu       sync.Mutex
	findings map[string]map[string]any // by ProductArn + " " + Id
	order    []string
	requests int
	updates  int
}

// New is an empty Security Hub of account in region.
func New(account, region string) *Server {
	return &Server{Account: account, Region: region, findings: map[string]map[string]any{}}
}

// Stored is a finding as Security Hub keeps it.
type Stored map[string]any

// Findings are the findings stored, in the order first imported.
func (s *Server) Findings() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Stored
	for _, k := range s.order {
		out = append(out, Stored(s.findings[k]))
	}
	return out
}

// Requests is the number of BatchImportFindings requests answered; Updates
// the findings that replaced one already stored.
func (s *Server) Requests() (requests, updates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.updates
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/findings/import" {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "no such operation in this emulator: "+r.Method+" "+r.URL.Path)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	var in struct {
		Findings []json.RawMessage
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 10<<20)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidInputException", "Invalid request body: "+err.Error())
		return
	}
	switch {
	case in.Findings == nil:
		writeError(w, http.StatusBadRequest, "InvalidInputException", "Findings is required")
		return
	case len(in.Findings) > 100:
		writeError(w, http.StatusBadRequest, "InvalidInputException", fmt.Sprintf("Findings: %d items, the maximum is 100", len(in.Findings)))
		return
	}
	type failed struct{ Id, ErrorCode, ErrorMessage string }
	out := struct {
		FailedCount, SuccessCount int
		FailedFindings            []failed
	}{FailedFindings: []failed{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	for _, raw := range in.Findings {
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			out.FailedCount++
			out.FailedFindings = append(out.FailedFindings, failed{"", "InvalidInput", "Finding does not adhere to Amazon Security Finding Format. data should be object"})
			continue
		}
		id, _ := f["Id"].(string)
		code, msg := s.check(f, len(raw))
		if code != "" {
			out.FailedCount++
			out.FailedFindings = append(out.FailedFindings, failed{id, code, msg})
			continue
		}
		key := f["ProductArn"].(string) + " " + id
		if old, ok := s.findings[key]; ok {
			// An update keeps when the finding was first created, and
			// one older than what is stored changes nothing.
			if f["UpdatedAt"].(string) < old["UpdatedAt"].(string) {
				out.SuccessCount++
				continue
			}
			f["CreatedAt"] = old["CreatedAt"]
			s.updates++
		} else {
			s.order = append(s.order, key)
		}
		if _, ok := f["RecordState"]; !ok {
			f["RecordState"] = "ACTIVE"
		}
		s.findings[key] = f
		out.SuccessCount++
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("hubemu-%d", s.requests))
	json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}

var (
	securityHubTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$`)
	findingType     = regexp.MustCompile(`^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)/[^/]+(/[^/]+)?$`)
)

// check is Security Hub's validation of one finding: an error code and
// message in its words, or "" for a finding it takes.
func (s *Server) check(f map[string]any, size int) (code, msg string) {
	bad := func(format string, args ...any) (string, string) {
		return "InvalidInput", "Finding does not adhere to Amazon Security Finding Format. " + fmt.Sprintf(format, args...)
	}
	if size > 240<<10 {
		return bad("data is larger than 240 KB")
	}
	for _, name := range []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"} {
		if _, ok := f[name]; !ok {
			return bad("data should have required property '%s'", name)
		}
	}
	for name, max := range map[string]int{"AwsAccountId": 12, "CreatedAt": 0, "Description": 1024, "GeneratorId": 512, "Id": 512, "ProductArn": 0, "SchemaVersion": 0, "Title": 256, "UpdatedAt": 0} {
		v, ok := f[name].(string)
		switch {
		case !ok:
			return bad("data.%s should be string", name)
		case strings.TrimSpace(v) == "":
			return bad("data.%s should match pattern \".*\\S.*\"", name)
		case max > 0 && utf8.RuneCountInString(v) > max:
			return bad("data.%s should NOT be longer than %d characters", name, max)
		}
	}
	if f["SchemaVersion"] != "2018-10-08" {
		return bad("data.SchemaVersion should be equal to one of the allowed values")
	}
	for _, name := range []string{"CreatedAt", "UpdatedAt"} {
		if !securityHubTime.MatchString(f[name].(string)) {
			return bad("data.%s should match format \"date-time\"", name)
		}
	}
	types, ok := f["Types"].([]any)
	if !ok || len(types) == 0 || len(types) > 50 {
		return bad("data.Types should be array of 1 to 50 items")
	}
	for i, t := range types {
		if ts, ok := t.(string); !ok || !findingType.MatchString(ts) {
			return bad("data.Types[%d] should match namespace/category/classifier", i)
		}
	}
	sev, ok := f["Severity"].(map[string]any)
	if !ok {
		return bad("data.Severity should be object")
	}
	if l, ok := sev["Label"].(string); !ok || !slices.Contains([]string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}, l) {
		return bad("data.Severity.Label should be equal to one of the allowed values")
	}
	if rs, ok := f["RecordState"]; ok && rs != "ACTIVE" && rs != "ARCHIVED" {
		return bad("data.RecordState should be equal to one of the allowed values")
	}
	if pf, ok := f["ProductFields"]; ok {
		if m := checkMap(pf, 50, 128, 2048); m != "" {
			return bad("data.ProductFields %s", m)
		}
	}
	res, ok := f["Resources"].([]any)
	if !ok || len(res) == 0 || len(res) > 32 {
		return bad("data.Resources should be array of 1 to 32 items")
	}
	for i, r := range res {
		rm, ok := r.(map[string]any)
		if !ok {
			return bad("data.Resources[%d] should be object", i)
		}
		for _, name := range []string{"Type", "Id"} {
			if v, ok := rm[name].(string); !ok || strings.TrimSpace(v) == "" {
				return bad("data.Resources[%d] should have required property '%s'", i, name)
			}
		}
		if p, ok := rm["Partition"]; ok && !slices.Contains([]any{"aws", "aws-cn", "aws-us-gov"}, p) {
			return bad("data.Resources[%d].Partition should be equal to one of the allowed values", i)
		}
		if d, ok := rm["Details"].(map[string]any); ok {
			if other, ok := d["Other"]; ok {
				if m := checkMap(other, 50, 128, 1024); m != "" {
					return bad("data.Resources[%d].Details.Other %s", i, m)
				}
			}
		}
	}
	// The default product imports only the caller's own findings.
	if want := fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", s.Region, s.Account, s.Account); f["ProductArn"] != want || f["AwsAccountId"] != s.Account {
		return "AccessDeniedException", fmt.Sprintf("The caller is not authorized to import findings for product %v and account %v", f["ProductArn"], f["AwsAccountId"])
	}
	return "", ""
}

// checkMap is "" when v is a map of non-blank strings within the limits.
func checkMap(v any, maxPairs, maxKey, maxValue int) string {
	m, ok := v.(map[string]any)
	if !ok {
		return "should be object"
	}
	if len(m) > maxPairs {
		return fmt.Sprintf("should NOT have more than %d properties", maxPairs)
	}
	for k, val := range m {
		s, ok := val.(string)
		switch {
		case utf8.RuneCountInString(k) > maxKey:
			return fmt.Sprintf("key %q should NOT be longer than %d characters", k, maxKey)
		case !ok:
			return fmt.Sprintf("[%q] should be string", k)
		case strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > maxValue:
			return fmt.Sprintf("[%q] should be 1 to %d characters, not all spaces", k, maxValue)
		}
	}
	return ""
}
