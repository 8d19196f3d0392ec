// Package boto runs Amazon's own client code as an independent peer in
// tests: boto3 and botocore from the Debian package python3-boto3 (under the
// Debian /usr/bin/python3, not whatever python3 is first on PATH) and the
// AWS CLI from the Debian package awscli. Our paginator and our emulator are
// held against them, so that the two cannot agree with each other and both
// be wrong.
package boto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cognito-export/cognito-export/internal/peer"
)

// The Debian interpreter and CLI: the packages install there, and a python3
// or aws earlier on PATH (pyenv, a virtualenv) would be another botocore.
const (
	Python = "/usr/bin/python3"
	AWSCLI = "/usr/bin/aws"
)

const installHint = "run scripts/install-test-deps.sh (apt-get install python3-boto3 awscli)"

var (
	availOnce sync.Once
	availErr  error
	versions  string
)

// Require fails or skips t (see package peer) unless boto3 and the AWS CLI run.
func Require(t testing.TB) {
	t.Helper()
	peer.Start(t, "boto3")
	availOnce.Do(func() {
		out, err := exec.Command(Python, "-c", "import boto3, botocore; print('boto3', boto3.__version__, 'botocore', botocore.__version__)").CombinedOutput()
		if err != nil {
			availErr = fmt.Errorf("%s cannot import boto3 (%v: %s): %s", Python, err, bytes.TrimSpace(out), installHint)
			return
		}
		cli, err := exec.Command(AWSCLI, "--version").CombinedOutput()
		if err != nil {
			availErr = fmt.Errorf("%s does not run (%v): %s", AWSCLI, err, installHint)
			return
		}
		versions = strings.TrimSpace(string(out)) + "; " + strings.TrimSpace(string(cli))
	})
	if availErr != nil {
		peer.Missing(t, availErr)
		return
	}
	t.Logf("peers: %s", versions)
}

// Script is the path of a Python script shipped with this package.
func Script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), name)
}

// Case is one call of boto3's admin_list_groups_for_user paginator.
type Case struct {
	Endpoint      string  `json:"endpoint"`
	Region        string  `json:"region"`
	Pool          string  `json:"pool"`
	User          string  `json:"user"`
	PageSize      *int    `json:"page_size"`
	MaxItems      *int    `json:"max_items"`
	StartingToken *string `json:"starting_token"`
}

// Result is build_full_result() as the AWS CLI would print it, or the
// service's error code.
type Result struct {
	Groups    []map[string]any `json:"Groups"`
	NextToken *string          `json:"NextToken"`
	Error     string           `json:"error"`
}

// Paginator is one long-lived python3 running paginate.py, so that hundreds
// of cases do not each pay for importing boto3.
type Paginator struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
}

// StartPaginator starts paginate.py; it is stopped when t ends.
func StartPaginator(t testing.TB) *Paginator {
	t.Helper()
	p := &Paginator{cmd: exec.Command(Python, Script("paginate.py"))}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(nil, 16<<20)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start paginate.py: %v", err)
	}
	t.Cleanup(func() {
		p.in.Close()
		p.cmd.Wait()
	})
	return p
}

// Run pages through c with boto3.
func (p *Paginator) Run(t testing.TB, c Case) Result {
	t.Helper()
	line, _ := json.Marshal(c)
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		p.fail(t, fmt.Sprintf("write to paginate.py: %v", err))
	}
	if !p.out.Scan() {
		p.fail(t, fmt.Sprintf("paginate.py stopped: %v", p.out.Err()))
	}
	var r Result
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		t.Fatalf("decode paginate.py output %q: %v", p.out.Text(), err)
	}
	return r
}

// fail stops the script first: its stderr is safe to read only once it exited.
func (p *Paginator) fail(t testing.TB, msg string) {
	t.Helper()
	p.in.Close()
	p.cmd.Wait()
	t.Fatalf("%s; stderr:\n%s", msg, p.stderr.String())
}

// Call is one request modelcheck.py sends; Pages > 1 follows the pagination
// token up to that many pages.
type Call struct {
	Endpoint string         `json:"endpoint"`
	Region   string         `json:"region"`
	Op       string         `json:"op"`
	Params   map[string]any `json:"params"`
	Pages    int            `json:"pages,omitempty"`
	Unsigned bool           `json:"unsigned,omitempty"` // no Authorization header
}

// Checked is what modelcheck.py found in the responses to one Call.
type Checked struct {
	Op       string   `json:"op"`
	Status   int      `json:"status"`
	Error    string   `json:"error"` // the __type of an error response
	Pages    int      `json:"pages"`
	Problems []string `json:"problems"`
	Notes    []string `json:"notes"`
}

// ModelCheck sends calls with botocore and validates every raw response
// against botocore's cognito-idp model. newerEnums holds, per model shape
// name, enum values a newer model than the installed botocore's allows.
func ModelCheck(t testing.TB, newerEnums map[string][]string, calls []Call) (botocoreVersion string, results []Checked) {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"newer_enums": newerEnums, "calls": calls})
	cmd := exec.Command(Python, Script("modelcheck.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("modelcheck.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Botocore string    `json:"botocore"`
		Results  []Checked `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode modelcheck.py output: %v\n%.500s", err, out)
	}
	if len(res.Results) != len(calls) {
		t.Fatalf("modelcheck.py answered %d of %d calls", len(res.Results), len(calls))
	}
	return res.Botocore, res.Results
}
