package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cognito-export/cognito-export/"

type layer struct {
	pkg     string
	imports []string
}

func layerOf(pkg string) (layer, bool) {
	i := slices.IndexFunc(layers, func(l layer) bool { return l.pkg == pkg })
	if i < 0 {
		return layer{}, false
	}
	return layers[i], true
}

// layers says which of the module's packages each package may import, by
// path under the module; a path ending in "/..." covers its subpackages.
// A package missing from the table fails the test: a new package takes its
// place in the graph on purpose, not by accident.
var layers = []layer{
	// The command parses flags, layers the config and the environment,
	// owns the console and the exit codes, and calls the library.
	{"cmd/cognito-export", []string{"configfile", "progress", "batch", "review", "remediation", "metrics", "athena", "export", "reader", "report", "diff", "cognito", "identity", "ratelimit", "sink", "sink/s3dest", "fault", "lease", "internal/cognitoemu", "internal/spelling", "internal/buildinfo", "sshsig", "memlimit"}},
	// A run of export beyond one pool: planning, discovery, shards, the
	// index, the pools' follow-up diff and report. Beneath cmd, which
	// only parses and prints; never importing it.
	{"batch", []string{"export", "review", "report", "diff", "reader", "location", "cognito", "ratelimit", "fault", "lease", "sink/s3dest", "internal/buildinfo"}},
	// Exports compared and reviewed where they lie: the diff and report
	// commands, and export's follow-up, above diff and report.
	{"review", []string{"diff", "report", "decisions", "asff", "hubimport", "reader", "rowscan", "location", "fault", "lease", "sink", "sink/localdest", "sink/s3dest"}},
	// A review's revocations as the commands that carry them out: reads the
	// decisions and an export, writes a script and a policy; beside
	// review, never changing a pool.
	{"remediation", []string{"decisions", "reader", "rowscan", "fault", "sink/s3dest"}},
	// export's --config file, read and checked against the flags it sets:
	// beneath cmd, which layers it under the command line and environment.
	{"configfile", []string{"fault", "internal/spelling"}},
	// A pool's progress on the console, a bar or log lines, as the metrics
	// count it: beside metrics, above the run it watches.
	{"progress", []string{"batch", "export"}},
	// Prometheus' view of a run's pools, served by cmd.
	{"metrics", []string{"batch", "ratelimit"}},
	// A report's findings as AWS Security Finding Format, and their import
	// into Security Hub: beside report, beneath review.
	{"asff", []string{"report"}},
	{"hubimport", []string{"asff", "fault"}},
	// The Athena table over an organisation's exports.
	{"athena", []string{"identity", "sink", "sink/s3dest", "fault"}},
	{"cmd/bench", []string{"export", "cognito", "ratelimit", "internal/cognitoemu", "decisions", "reader", "rowscan", "sink/s3dest"}},
	{"export", []string{"reader", "location", "cognito", "identity", "ratelimit", "checkpoint", "lease", "sink", "sink/s3dest", "sink/memdest", "fault"}},
	// One writer per output: the lease object and its renewal, over a
	// store the destinations implement; beneath every writer.
	{"lease", []string{"fault"}},
	// The reader opens, verifies and finds exports (verify, diff and
	// report): beneath export, which takes the names an export is read by
	// from it.
	{"reader", []string{"location", "lease", "sink", "sink/s3dest", "sshsig"}},
	// A location (a directory or s3://bucket/prefix/) is parsed, joined
	// and opened here only: above the two destinations it chooses between,
	// beneath everything that reads or writes one.
	{"location", []string{"sink", "sink/localdest", "sink/s3dest"}},
	// The row scanner streams an export's rows, through the reader's
	// manifest and source; only what reads rows (diff, report) needs it.
	{"rowscan", []string{"reader", "sink"}},
	// The report reads an export through the reader, beside verify; the
	// diff reaches it only through cmd, as a report.Comparison.
	{"report", []string{"reader", "rowscan", "decisions", "internal/buildinfo"}},
	// The diff reads two exports and writes change rows as an export does:
	// beside export, both above the reader.
	{"diff", []string{"reader", "rowscan", "sink", "fault"}},
	// A reviewer's decisions file, read and written with sink's CSV rules:
	// beneath the report that offers it, the next report that checks it
	// and remediation that carries it out.
	{"decisions", []string{"sink"}},
	{"cognito", []string{"ratelimit", "fault"}},
	{"checkpoint", nil},
	// sink names the program in every manifest it writes.
	{"sink", []string{"internal/buildinfo"}},
	{"sink/localdest", []string{"sink"}},
	{"sink/memdest", []string{"sink"}},
	{"sink/s3dest", []string{"sink", "fault"}},
	{"ratelimit", nil},
	// The process's soft memory limit, from its container's: set by cmd,
	// which hands it to the jobs that hold large live sets.
	{"memlimit", nil},
	{"fault", nil},
	// OpenSSH's signatures (SSHSIG) and allowed_signers: beneath the
	// reader, which checks them, and cmd, which loads the signing key.
	{"sshsig", nil},
	// The emulator is a product feature (demo, emulate), not a test peer.
	{"internal/cognitoemu", nil},
	{"internal/archtest", nil},
	// Test helpers: imported only by tests.
	{"sink/desttest", []string{"sink"}},
	{"identity", []string{"sink", "internal/spelling"}},
	{"internal/spelling", nil},
	// What made this binary: beneath everything that writes a file.
	{"internal/buildinfo", nil},
	{"checkpoint/storetest", []string{"checkpoint"}},
	{"internal/peer", nil},
	{"internal/s3server", []string{"internal/peer"}},
	{"internal/faultproxy", nil},
	{"internal/duckdb", []string{"internal/peer"}},
	{"internal/chromium", []string{"internal/peer", "internal/cdp"}},
	{"internal/cdp", nil},
	{"internal/cognitolocal", []string{"internal/peer"}},
	{"internal/boto", []string{"internal/peer"}},
	{"internal/pushgateway", []string{"internal/peer"}},
	{"internal/emfcheck", nil},
	{"internal/hubemu", nil},
	{"internal/prometheus", []string{"internal/peer", "internal/pushgateway"}},
	{"internal/exportcheck", []string{"internal/cognitoemu", "internal/duckdb"}},
	{"internal/fuzzcheck", nil},
	{"internal/sshkeygen", []string{"internal/peer"}},
}

// testOnly are packages no production package may import: the peers and
// helpers that tests start and use.
var testOnly = []string{
	"internal/peer", "internal/s3server", "internal/duckdb", "internal/chromium", "internal/cdp", "internal/cognitolocal", "internal/boto",
	"internal/exportcheck", "internal/pushgateway", "internal/emfcheck", "internal/prometheus", "internal/hubemu", "sink/desttest", "checkpoint/storetest", "internal/faultproxy", "internal/fuzzcheck",
	"internal/sshkeygen",
}

// awsServices says which packages may import which AWS service clients:
// only the S3 destination talks to S3, and only Cognito access and the job
// (for Cognito's types) to Cognito.
var awsServices = map[string][]string{
	"github.com/aws/aws-sdk-go-v2/service/s3":                      {"sink/s3dest", "internal/s3server"},
	"github.com/aws/aws-sdk-go-v2/service/securityhub":             {"hubimport"},
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types":       {"hubimport"},
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider": {"cognito", "export", "identity", "cmd/cognito-export", "cmd/bench", "internal/cognitoemu"},
}

type goPackage struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func allowed(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if p == pkg || strings.HasSuffix(p, "/...") && strings.HasPrefix(pkg, strings.TrimSuffix(p, "...")) {
			return true
		}
	}
	return false
}

// TestImportsPointOneWay checks the non-test imports of every package of
// the module against the layers.
func TestImportsPointOneWay(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 8 {
		t.Fatalf("go list found %d packages: is the module root where it should be?", len(pkgs))
	}
	for _, p := range pkgs {
		l, ok := layerOf(p.ImportPath)
		if !ok {
			t.Errorf("package %s has no place in the layers of %s: add it with what it may import", p.ImportPath, "internal/archtest")
			continue
		}
		production := !slices.Contains(testOnly, p.ImportPath)
		for _, imp := range p.Imports {
			if users, ok := awsServices[imp]; ok && !slices.Contains(users, p.ImportPath) {
				t.Errorf("%s imports %s: only %v may", p.ImportPath, imp, users)
			}
			own, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if production && slices.Contains(testOnly, own) {
				t.Errorf("%s imports the test peer %s: production code must not", p.ImportPath, own)
			}
			if !allowed(l.imports, own) {
				t.Errorf("%s imports %s, against the layers (it may import %v)", p.ImportPath, own, l.imports)
			}
		}
	}
}

// TestLayersCatchAViolation proves the check can fail: an import against
// the direction, a test peer in production code and the S3 SDK outside its
// destination are each caught by the same rules.
func TestLayersCatchAViolation(t *testing.T) {
	for _, tc := range []struct{ pkg, imp string }{
		{"sink", module + "export"},
		{"cognito", module + "export"},
		{"export", module + "cmd/cognito-export"},
		{"batch", module + "cmd/cognito-export"},
		{"review", module + "batch"},
	} {
		l, _ := layerOf(tc.pkg)
		if allowed(l.imports, strings.TrimPrefix(tc.imp, module)) {
			t.Errorf("%s importing %s would pass", tc.pkg, tc.imp)
		}
	}
	if !slices.Contains(testOnly, "internal/s3server") {
		t.Error("the S3 test server is not marked test-only")
	}
	if slices.Contains(awsServices["github.com/aws/aws-sdk-go-v2/service/s3"], "sink") {
		t.Error("sink itself may import the S3 SDK")
	}
}

// withoutTheSDK build without any AWS package, even indirectly: the rows,
// the encoders, the local and in-memory destinations and the checkpoint
// do not need it, and must not grow a dependency on it through a helper.
var withoutTheSDK = []string{"sink", "sink/localdest", "sink/memdest", "sink/desttest", "checkpoint", "checkpoint/storetest"}

func TestOnlyTheS3DestinationNeedsTheSDKInSinkAndCheckpoint(t *testing.T) {
	for _, pkg := range withoutTheSDK {
		out, err := exec.Command("go", "list", "-deps", module+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/aws/") {
				t.Errorf("%s depends on %s: only sink/s3dest may", pkg, dep)
			}
		}
	}
}
