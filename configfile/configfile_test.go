package configfile

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/fault"
)

// flags is a small export: enough flags for every rule.
func flags() *flag.FlagSet {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	for _, name := range []string{"config", "user-pool-id", "output", "format", "rate", "rate-share", "role-arn", "regions", "include", "exclude"} {
		fs.String(name, "", "")
	}
	fs.Int("concurrency", 1, "")
	return fs
}

var rules = Rules{ProcessWide: []string{"config", "rate", "rate-share"}, DiscoveryOnly: []string{"regions", "include", "exclude"}}

func parse(t *testing.T, yaml string) (*File, error) {
	t.Helper()
	return Parse("c.yaml", []byte(yaml), flags(), rules)
}

// TestParseRefuses holds each rule: the file is refused with a usage error
// that names the file and what is wrong in it.
func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, yaml, msg string }{
		{"unknown key, with the closest flag", "concurency: 4\n", `unknown key "concurency" (did you mean "concurrency"?)`},
		{"unknown key, none close", "frobnicate: true\n", `unknown key "frobnicate" (keys are`},
		{"config names no other file", "config: other.yaml\n", `unknown key "config"`},
		{"unknown key in an entry", "pools:\n  - user-pool-id: a\n    colour: red\n", `unknown key "pools[0].colour"`},
		{"pools inside an entry", "pools:\n  - user-pool-id: a\n    pools: []\n", `unknown key "pools[0].pools"`},
		{"process-wide flag in a pool", "pools:\n  - user-pool-id: a\n    rate-share: 0.5\n", "pools[0].rate-share applies to the whole run"},
		{"process-wide flag in an account", "accounts:\n  - role-arn: r\n    rate: 5\n", "accounts[0].rate applies to the whole run"},
		{"pool entry without its pool", "pools:\n  - output: x\n", "pools[0].user-pool-id is missing"},
		{"pool entry with an empty pool", "pools:\n  - user-pool-id: ''\n", "pools[0].user-pool-id is missing"},
		{"account entry naming a pool", "accounts:\n  - role-arn: r\n    user-pool-id: a\n", "accounts[0].user-pool-id: an account's pools are found by ListUserPools"},
		{"discovery in a pool entry", "pools:\n  - user-pool-id: a\n    regions: us-east-1\n", "pools[0].regions belongs to discovery"},
		{"pools not a list", "pools: 3\n", "pools: want a list of mappings, each with at least user-pool-id"},
		{"pools an empty list", "pools: []\n", "pools: want a list"},
		{"pools a list of values", "pools: [a, b]\n", "pools: want a list"},
		{"accounts not a list", "accounts: {a: 1}\n", "accounts: want a list of mappings, each with role-arn and regions"},
		{"a pool at the top and in pools", "user-pool-id: a\npools:\n  - user-pool-id: b\n", "user-pool-id at the top level and pools: or accounts:"},
		{"a pool at the top and accounts", "user-pool-id: a\naccounts:\n  - role-arn: r\n", "user-pool-id at the top level and pools: or accounts:"},
		{"not a mapping", "- a\n- b\n", "not a mapping (want a YAML mapping of flag names to values)"},
		{"not YAML", "{", "want a YAML mapping"},
		{"a key twice", "format: csv\nformat: parquet\n", `line 2: key "format" is set twice in one mapping`},
		{"a key that is a list", "[a]: 1\n", "a key that is not a name"},
		{"a nested list", "regions: [a, [b]]\n", "regions: want a list of plain values"},
		{"a merge of a value", "a: &x 1\n<<: *x\n", "<<: merges mappings only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.yaml)
			if err == nil {
				t.Fatalf("accepted; want %q", tt.msg)
			}
			if fault.KindOf(err) != fault.Usage {
				t.Errorf("kind %v, want usage (exit 2): %v", fault.KindOf(err), err)
			}
			if !strings.HasPrefix(err.Error(), "config c.yaml: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to name c.yaml and say %q", err, tt.msg)
			}
		})
	}
}

// TestParseLayers reads what a file sets into layers, each named for the
// messages of the flags they set.
func TestParseLayers(t *testing.T) {
	f, err := parse(t, `
output: out-{pool}
rate:
  UserList: 5
regions: [us-east-1, eu-west-1]
pools:
  - &base
    user-pool-id: a
    format: csv
    concurrency: 3
  - <<: *base
    user-pool-id: b
accounts:
  - role-arn: arn:aws:iam::1:role/r
    include: '*prod*'
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Path: "c.yaml",
		Top:  Layer{From: "config c.yaml", Values: map[string]string{"output": "out-{pool}", "rate": "UserList=5", "regions": "us-east-1,eu-west-1"}},
		Pools: []Layer{
			{From: "config c.yaml pools[0]", Values: map[string]string{"user-pool-id": "a", "format": "csv", "concurrency": "3"}},
			{From: "config c.yaml pools[1]", Values: map[string]string{"user-pool-id": "b", "format": "csv", "concurrency": "3"}},
		},
		Accounts: []Layer{{From: "config c.yaml accounts[0]", Values: map[string]string{"role-arn": "arn:aws:iam::1:role/r", "include": "*prod*"}}},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got  %+v\nwant %+v", f, want)
	}
}

// TestParseEmpty: an empty file sets nothing and names no pool.
func TestParseEmpty(t *testing.T) {
	for _, yaml := range []string{"", "# nothing\n"} {
		f, err := parse(t, yaml)
		if err != nil {
			t.Fatalf("%q: %v", yaml, err)
		}
		if len(f.Top.Values) != 0 || f.Pools != nil || f.Accounts != nil {
			t.Fatalf("%q: %+v", yaml, f)
		}
	}
}

// TestMergeKeepsOwnKeysAndOrder: an entry's own keys win over a merge, and
// of several merged mappings the first that sets a key does, as in yaml.v3.
func TestMergeKeepsOwnKeysAndOrder(t *testing.T) {
	f, err := parse(t, `
pools:
  - &a {user-pool-id: x, format: csv, output: a}
  - &b {user-pool-id: y, format: parquet, concurrency: 2}
  - <<: [*a, *b]
    user-pool-id: z
`)
	if err != nil {
		t.Fatal(err)
	}
	got := f.Pools[2].Values
	want := map[string]string{"user-pool-id": "z", "format": "csv", "output": "a", "concurrency": "2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged entry %v, want %v", got, want)
	}
}

// TestMergeOfItselfIsRefused: a mapping that merges itself would be read
// for ever.
func TestMergeOfItselfIsRefused(t *testing.T) {
	_, err := parse(t, "--- &p\nformat: csv\n<<: *p\n")
	if err == nil || !strings.Contains(err.Error(), "merges itself") {
		t.Fatalf("err = %v, want a mapping that merges itself named", err)
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), flags(), rules)
	if fault.KindOf(err) != fault.Usage || !strings.HasPrefix(err.Error(), "--config: ") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("err = %v, want a usage error naming the file", err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("format: csv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, flags(), rules)
	if err != nil || f.Path != path || f.Top.Values["format"] != "csv" {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

// TestChoose holds where a run's pools come from, and each refusal.
func TestChoose(t *testing.T) {
	pools := []Layer{{From: "config c.yaml pools[0]"}, {From: "config c.yaml pools[1]"}}
	accounts := []Layer{{From: "config c.yaml accounts[0]"}}
	flagsPool := []Layer{{}}
	allPools := Layer{From: "--all-pools"}
	tests := []struct {
		name           string
		file           File
		n              Naming
		pools, sources []Layer
		refused        string
	}{
		{"no file: the flags' pool", File{}, Naming{Pool: true}, flagsPool, nil, ""},
		{"no pool anywhere: the flags' pool, for the plan to refuse", File{}, Naming{}, flagsPool, nil, ""},
		{"the file's pools", File{Path: "c.yaml", Pools: pools}, Naming{}, pools, nil, ""},
		{"--all-pools", File{}, Naming{AllPools: true, Choosing: true}, nil, []Layer{allPools}, ""},
		{"accounts", File{Accounts: accounts}, Naming{Choosing: true}, nil, accounts, ""},
		{"pools and accounts", File{Pools: pools, Accounts: accounts}, Naming{}, pools, accounts, ""},
		{"--all-pools and accounts", File{Accounts: accounts}, Naming{AllPools: true}, nil, []Layer{allPools, accounts[0]}, ""},
		{"a pool named and the file's pools", File{Path: "c.yaml", Pools: pools}, Naming{Pool: true}, nil, nil, "--user-pool-id and the pools of c.yaml: name the pools in one place only"},
		{"a pool named and --all-pools", File{}, Naming{Pool: true, AllPools: true}, nil, nil, "--user-pool-id and --all-pools"},
		{"choosing without discovery", File{Pools: pools}, Naming{Choosing: true}, nil, nil, "--regions, --include and --exclude choose among the pools ListUserPools finds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s, err := tt.file.Choose(tt.n)
			if tt.refused != "" {
				if fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want a usage error saying %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tt.pools) || !reflect.DeepEqual(s, tt.sources) {
				t.Fatalf("pools %+v sources %+v, want %+v and %+v", p, s, tt.pools, tt.sources)
			}
		})
	}
}
