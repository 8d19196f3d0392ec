package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// repoRoot is where the Dockerfile, Makefile and configs/ are.
const repoRoot = "../.."

// shellWords splits a shell command line on blanks, honouring double quotes
// (enough for the build lines of the Dockerfile and the Makefile).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// buildLine is one `[VAR=value ...] go build [flags] -o OUT PKG` command.
type buildLine struct {
	env   []string
	flags []string // everything but -o and its value
	out   string
}

func parseBuild(t *testing.T, where, line string) buildLine {
	t.Helper()
	words := shellWords(line)
	var b buildLine
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "="); i++ {
		b.env = append(b.env, words[i])
	}
	if i+1 >= len(words) || !strings.HasSuffix(words[i], "go") || words[i+1] != "build" {
		t.Fatalf("%s: not a go build line: %q", where, line)
	}
	for i += 2; i < len(words); i++ {
		if words[i] == "-o" && i+1 < len(words) {
			b.out = words[i+1]
			i++
			continue
		}
		b.flags = append(b.flags, words[i])
	}
	return b
}

// TestDockerfileBuildsLikeMake checks, without Docker, that the image's
// build stage compiles the binary exactly as `make build` does: the same
// environment and flags, and, run here, the same bytes.
func TestDockerfileBuildsLikeMake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	run := regexp.MustCompile(`(?m)^RUN (.*\bgo build\b.*)$`).FindAllStringSubmatch(string(dockerfile), -1)
	if len(run) != 1 {
		t.Fatalf("want exactly one RUN ... go build line in the Dockerfile, found %d", len(run))
	}
	docker := parseBuild(t, "Dockerfile", run[0][1])

	mk := exec.Command("make", "-s", "-n", "build", "GO=go")
	mk.Dir = repoRoot
	out, err := mk.Output()
	if err != nil {
		t.Fatalf("make -n build: %v", err)
	}
	var makeLine string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "go build") {
			makeLine = l
		}
	}
	mkb := parseBuild(t, "Makefile", makeLine)
	if !slices.Equal(docker.env, mkb.env) || !slices.Equal(docker.flags, mkb.flags) {
		t.Fatalf("the Dockerfile builds with %v %v, make build with %v %v", docker.env, docker.flags, mkb.env, mkb.flags)
	}

	// Both commands, as written, give the same binary.
	dir := t.TempDir()
	sums := map[string][32]byte{}
	for name, b := range map[string]buildLine{"dockerfile": docker, "make": mkb} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", append(append([]string{"build"}, b.flags[:len(b.flags)-1]...), "-o", bin, b.flags[len(b.flags)-1])...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), b.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s build: %v\n%s", name, err, out)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sums[name] = sha256.Sum256(data)
	}
	if sums["dockerfile"] != sums["make"] {
		t.Fatal("the Dockerfile's build line and make build give different binaries")
	}

	// The image: the binary only, on distroless static as a non-root user.
	final := string(dockerfile[strings.LastIndex(string(dockerfile), "\nFROM "):])
	for _, want := range []string{"FROM gcr.io/distroless/static", ":nonroot", "USER nonroot", "COPY --from=build " + docker.out + " "} {
		if !strings.Contains(final, want) {
			t.Fatalf("the final stage lacks %q:\n%s", want, final)
		}
	}
	if strings.Count(final, "COPY") != 1 || strings.Contains(final, "RUN ") {
		t.Fatalf("the final stage should copy the binary and nothing else:\n%s", final)
	}
}

// sdkCalls lists the AWS operations the code sends, from the SDK input
// types it builds: cip.ListUsersInput is ListUsers.
func sdkCalls(t *testing.T, alias string, dirs ...string) []string {
	t.Helper()
	re := regexp.MustCompile(`\b` + alias + `\.([A-Z]\w*)Input\b`)
	seen := map[string]bool{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, _ := os.ReadFile(f)
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				seen[m[1]] = true
			}
		}
	}
	var ops []string
	for op := range seen {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// sdkFields lists the permissions of fields (field name: permission) that
// the non-test code of dirs sets in a composite literal ("Field:").
func sdkFields(t *testing.T, fields map[string]string, dirs ...string) []string {
	t.Helper()
	var perms []string
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			data, _ := os.ReadFile(f)
			for field, perm := range fields {
				if regexp.MustCompile(`\b` + field + `:`).Match(data) {
					perms = append(perms, perm)
				}
			}
		}
	}
	return perms
}

// s3Permission is the IAM action each S3 call needs.
var s3Permission = map[string]string{
	"PutObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
	"CompleteMultipartUpload": "s3:PutObject", "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
	"DeleteObject": "s3:DeleteObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
	"ListObjectsV2": "s3:ListBucket", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
	"GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration", "GetObjectRetention": "s3:GetObjectRetention",
}

// s3Fields are the permissions an S3 call needs for a field it sets, on
// top of its own: a PUT that asks for a retention needs
// s3:PutObjectRetention besides s3:PutObject.
var s3Fields = map[string]string{"ObjectLockMode": "s3:PutObjectRetention"}

// TestIAMPolicyHasExactlyThePermissionsUsed derives the operations from the
// code, so a new call without a policy change (or a permission no code
// needs) fails here.
func TestIAMPolicyHasExactlyThePermissionsUsed(t *testing.T) {
	var policy struct {
		Statement []struct {
			Effect   string
			Action   any
			Resource any
		}
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "configs", "iam-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatal(err)
	}
	var granted []string
	for _, st := range policy.Statement {
		// ListUserPools (--all-pools) has no resource to name: IAM takes
		// it only on "*", and then alone in its statement.
		if st.Effect != "Allow" || (st.Resource == "*" && st.Action != "cognito-idp:ListUserPools") {
			t.Fatalf("statement %+v: only Allow on named resources", st)
		}
		switch a := st.Action.(type) {
		case string:
			granted = append(granted, a)
		case []any:
			for _, x := range a {
				granted = append(granted, x.(string))
			}
		}
	}
	var want []string
	for _, op := range sdkCalls(t, "cip", "export", "cognito", "cmd/cognito-export") {
		want = append(want, "cognito-idp:"+op)
	}
	for _, op := range sdkCalls(t, "s3", "sink", "sink/s3dest", "checkpoint") {
		perm, ok := s3Permission[op]
		if !ok {
			t.Fatalf("the code calls S3 %s: add its permission to configs/iam-policy.json and to this test", op)
		}
		want = append(want, perm)
	}
	for _, op := range sdkCalls(t, "securityhub", "hubimport") {
		want = append(want, "securityhub:"+op)
	}
	want = append(want, sdkFields(t, s3Fields, "sink", "sink/s3dest", "checkpoint")...)
	sort.Strings(want)
	want = slices.Compact(want)
	sort.Strings(granted)
	if !slices.Equal(granted, want) {
		t.Fatalf("the policy grants\n  %v\nthe code uses\n  %v", granted, want)
	}
	for _, a := range granted {
		if strings.HasPrefix(a, "cognito-idp:") && !regexp.MustCompile(`:(List|Describe|AdminList)`).MatchString(a) {
			t.Fatalf("%s is not read-only", a)
		}
	}
}

// TestDeploymentExamplesAreValid parses the ECS, Scheduler and cron examples
// and checks that what they configure the tool with is accepted by it.
func TestDeploymentExamplesAreValid(t *testing.T) {
	var task struct {
		ContainerDefinitions []struct {
			User                   string
			ReadonlyRootFilesystem bool
			Command                []string
			StopTimeout            int
			Environment            []struct{ Name, Value string }
		}
	}
	readJSON(t, "ecs-task-definition.json", &task)
	if len(task.ContainerDefinitions) != 1 {
		t.Fatal("want one container")
	}
	c := task.ContainerDefinitions[0]
	if c.User == "" || strings.HasPrefix(c.User, "0") || !c.ReadonlyRootFilesystem || c.StopTimeout < 25 {
		t.Fatalf("container should run as non-root, read-only, with time for the final checkpoint: %+v", c)
	}
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	args := c.Command[1:]
	p, err := parseExport(args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("the task's settings are refused: %v", err)
	}
	if err := p.Pools[0].Validate(); err != nil || p.Pools[0].UserPoolID == "" {
		t.Fatalf("the task's settings are incomplete: %v", err)
	}
	if p.Pools[0].StopTimeout.Seconds() >= float64(c.StopTimeout) {
		t.Fatalf("--stop-timeout %v leaves no time before ECS kills at %ds", p.Pools[0].StopTimeout, c.StopTimeout)
	}

	var sched struct {
		ScheduleExpression string
		Target             struct {
			Arn, RoleArn  string
			EcsParameters struct{ TaskDefinitionArn string }
		}
	}
	readJSON(t, "eventbridge-schedule.json", &sched)
	if !regexp.MustCompile(`^cron\((\S+ ){5}\S+\)$`).MatchString(sched.ScheduleExpression) || sched.Target.EcsParameters.TaskDefinitionArn == "" {
		t.Fatalf("schedule: %+v", sched)
	}

	cron, err := os.ReadFile(filepath.Join(repoRoot, "configs", "crontab"))
	if err != nil {
		t.Fatal(err)
	}
	jobs := 0
	for _, line := range strings.Split(string(cron), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || strings.HasPrefix(line, "#") || strings.Contains(f[0], "=") {
			continue
		}
		jobs++
		i := slices.Index(f, "export")
		if f[i-1] != "cognito-export" || !slices.Contains(f, "--config") {
			t.Fatalf("cron job does not run cognito-export export --config: %q", line)
		}
	}
	if jobs != 1 {
		t.Fatalf("%d cron jobs, want 1", jobs)
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
