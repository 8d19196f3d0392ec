package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-export/cognito-export/batch"
)

// orgConfigPath is where the array jobs mount configs/org.yaml.
const orgConfigPath = "/etc/cognito-export/org.yaml"

// shardsOf parses the container's command line and environment as each of
// count tasks (index from indexVar) would, with the mounted config read
// from configs/org.yaml, and checks that every (account, region) pair of
// the config falls to exactly one task.
func shardsOf(t *testing.T, where string, args []string, env map[string]string, indexVar string, count int) {
	t.Helper()
	i := slices.Index(args, orgConfigPath)
	if len(args) == 0 || args[0] != "export" || i < 1 || args[i-1] != "--config" {
		t.Fatalf("%s: the container should run export --config %s: %q", where, orgConfigPath, args)
	}
	args = slices.Clone(args[1:])
	args[i-1] = filepath.Join(repoRoot, "configs", "org.yaml")
	if env["COGNITO_EXPORT_SHARD_COUNT"] != strconv.Itoa(count) {
		t.Fatalf("%s: COGNITO_EXPORT_SHARD_COUNT=%q, the array has %d tasks", where, env["COGNITO_EXPORT_SHARD_COUNT"], count)
	}
	lookup := func(extra map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if v, ok := extra[k]; ok {
				return v, true
			}
			v, ok := env[k]
			return v, ok
		}
	}
	// The whole run, as one process without the array's variables.
	delete(env, "COGNITO_EXPORT_SHARD_COUNT")
	whole, err := parseExport(args, lookup(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("%s: the settings are refused: %v", where, err)
	}
	env["COGNITO_EXPORT_SHARD_COUNT"] = strconv.Itoa(count)
	pairs := map[batch.QuotaKey]int{}
	for _, pp := range whole.Pools {
		pairs[pp.Key] = 0
	}
	for _, tg := range whole.Targets {
		pairs[tg.Key] = 0
	}
	if len(pairs) < count {
		t.Fatalf("%s: %d (account, region) pairs for %d tasks", where, len(pairs), count)
	}
	for task := range count {
		p, err := parseExport(args, lookup(map[string]string{indexVar: strconv.Itoa(task)}), &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%s task %d: %v", where, task, err)
		}
		if p.Shard != (batch.Shard{Index: task, Count: count}) || p.Index.Name != fmt.Sprintf("index-shard-%d-of-%d.json", task, count) {
			t.Fatalf("%s task %d: shard %v, index %v", where, task, p.Shard, p.Index)
		}
		for _, pp := range p.Pools {
			pairs[pp.Key]++
		}
		for _, tg := range p.Targets {
			pairs[tg.Key]++
		}
		for _, pp := range p.Pools {
			if err := pp.Config.Validate(); err != nil {
				t.Fatalf("%s task %d: %v", where, task, err)
			}
		}
	}
	for k, n := range pairs {
		if n != 1 {
			t.Fatalf("%s: %v is taken by %d tasks", where, k, n)
		}
	}
}

// The AWS Batch array job and the Kubernetes Indexed Job run the CLI as
// it is: their command and environment parse, the shard count is the
// array's size, and their tasks split the organisation's pairs exactly.
func TestArrayJobsMatchTheCLI(t *testing.T) {
	var def struct {
		ContainerProperties struct {
			Command                []string
			User                   string
			ReadonlyRootFilesystem bool
			Environment            []struct{ Name, Value string }
			MountPoints            []struct {
				ContainerPath string
				ReadOnly      bool
			}
		}
		RetryStrategy struct {
			EvaluateOnExit []struct{ OnExitCode, Action string }
		}
	}
	readJSON(t, "aws-batch-job-definition.json", &def)
	var submit struct {
		JobDefinition   string
		ArrayProperties struct{ Size int }
	}
	readJSON(t, "aws-batch-submit-job.json", &submit)
	c := def.ContainerProperties
	if c.User == "" || strings.HasPrefix(c.User, "0") || !c.ReadonlyRootFilesystem || len(c.MountPoints) != 1 ||
		c.MountPoints[0].ContainerPath != filepath.Dir(orgConfigPath) || !c.MountPoints[0].ReadOnly {
		t.Fatalf("batch container: %+v", c)
	}
	for _, e := range def.RetryStrategy.EvaluateOnExit {
		if (e.OnExitCode == "2") != (e.Action == "EXIT") {
			t.Fatalf("batch retries: exit 2 (a setting to fix) must not be retried, 1 and 143 must: %+v", e)
		}
	}
	env := map[string]string{}
	for _, e := range c.Environment {
		env[e.Name] = e.Value
	}
	shardsOf(t, "aws-batch-job-definition.json", c.Command, env, "AWS_BATCH_JOB_ARRAY_INDEX", submit.ArrayProperties.Size)

	data, err := os.ReadFile(filepath.Join(repoRoot, "configs", "k8s-indexed-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Template       struct {
				Spec struct {
					ServiceAccountName string `yaml:"serviceAccountName"`
					Containers         []struct {
						Command, Args []string
						Env           []struct{ Name, Value string }
						VolumeMounts  []struct {
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
				}
			}
		}
	}
	var account struct {
		Kind     string
		Metadata struct{ Annotations map[string]string }
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for _, into := range []any{&account, &job} {
		if err := dec.Decode(into); err != nil {
			t.Fatalf("k8s-indexed-job.yaml: %v", err)
		}
	}
	if account.Kind != "ServiceAccount" || !strings.HasPrefix(account.Metadata.Annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::") {
		t.Fatalf("the service account should carry the IRSA role: %+v", account)
	}
	s := job.Spec
	if job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Parallelism != s.Completions || len(s.Template.Spec.Containers) != 1 ||
		s.Template.Spec.ServiceAccountName != "cognito-export" {
		t.Fatalf("k8s job: %+v", job)
	}
	k := s.Template.Spec.Containers[0]
	if len(k.Command) != 0 || len(k.VolumeMounts) != 1 || k.VolumeMounts[0].MountPath != filepath.Dir(orgConfigPath) {
		t.Fatalf("the pod should run the image's entrypoint with the config mounted: %+v", k)
	}
	env = map[string]string{}
	for _, e := range k.Env {
		env[e.Name] = e.Value
	}
	shardsOf(t, "k8s-indexed-job.yaml", k.Args, env, "JOB_COMPLETION_INDEX", s.Completions)
}
