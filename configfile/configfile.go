// Package configfile reads export's --config file: a YAML mapping whose
// keys are the flags of export, at the top level and in the entries of
// pools: and accounts:. Every key and value is checked against the flags
// before anything runs, so that a typo stops the run with one line that
// names the file, the entry and the key; Choose says which of its entries,
// with the command line, name the pools of a run.
package configfile

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/spelling"
)

// Layer is one source of settings below the command line and environment:
// the file's top level, or one of its entries.
type Layer struct {
	From   string // for messages: `config FILE` or `config FILE pools[1]`
	Values map[string]string
}

// File is a parsed config file: top-level settings and, optionally,
// several pools and several accounts, each a layer of settings that
// override the top level. An account's pools are found by ListUserPools in
// each of its regions.
type File struct {
	Path     string
	Top      Layer
	Pools    []Layer
	Accounts []Layer
}

// Rules say which flags an entry may not set.
type Rules struct {
	// ProcessWide flags concern the whole process, not one pool: only the
	// top level may set them.
	ProcessWide []string
	// DiscoveryOnly flags say how pools are found (ListUserPools in each
	// region): they belong at the top level or in an accounts entry, never
	// in the entry of one pool, which has one region and no patterns.
	DiscoveryOnly []string
}

// The file's own keys: the entries, which are no flags.
const (
	poolsKey    = "pools"
	accountsKey = "accounts"
	poolKey     = "user-pool-id"
)

// Load reads path and rejects any key that is not a flag of fs (but
// config, which names the file), any entry that breaks rules, and any
// pool named twice over. Every error is of kind fault.Usage and names
// path.
func Load(path string, fs *flag.FlagSet, rules Rules) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("--config: %v", err))
	}
	return Parse(path, data, fs, rules)
}

// Parse is Load of data, read from path.
func Parse(path string, data []byte, fs *flag.FlagSet, rules Rules) (*File, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fault.Usagef(fmt.Sprintf("config %s: %v (want a YAML mapping of flag names to values)", path, err))
	}
	ms := mappings{}
	raw, err := ms.of(&doc)
	if err != nil {
		return nil, fault.Usagef(fmt.Sprintf("config %s: %v (want a YAML mapping of flag names to values)", path, err))
	}
	r := reading{path: path, fs: fs, rules: rules, ms: ms}
	fc := &File{Path: path, Top: Layer{From: "config " + path}}
	if fc.Top.Values, err = r.settings("", raw, false); err != nil {
		return nil, err
	}
	if fc.Pools, err = r.entries(raw, poolsKey); err != nil {
		return nil, err
	}
	if fc.Accounts, err = r.entries(raw, accountsKey); err != nil {
		return nil, err
	}
	if _, ok := fc.Top.Values[poolKey]; ok && (fc.Pools != nil || fc.Accounts != nil) {
		return nil, r.errorf("user-pool-id at the top level and pools: or accounts:: name the pools in pools: only")
	}
	return fc, nil
}

// reading is one file being read.
type reading struct {
	path  string
	fs    *flag.FlagSet
	rules Rules
	ms    mappings
}

// errorf is a usage error about the file.
func (r reading) errorf(format string, args ...any) error {
	return fault.Usagef(fmt.Sprintf("config %s: ", r.path) + fmt.Sprintf(format, args...))
}

// entries reads the list under key (pools or accounts): each entry a
// mapping of settings. A pool entry names its pool; an account entry says
// where to look for pools (role-arn, external-id, regions, include,
// exclude) and may set anything a pool entry may.
func (r reading) entries(raw map[string]*yaml.Node, key string) ([]Layer, error) {
	node, ok := raw[key]
	if !ok {
		return nil, nil
	}
	list, err := r.ms.list(node)
	if err != nil || len(list) == 0 {
		if key == poolsKey {
			return nil, r.errorf("pools: want a list of mappings, each with at least user-pool-id")
		}
		return nil, r.errorf("accounts: want a list of mappings, each with role-arn and regions")
	}
	var out []Layer
	for i, m := range list {
		where := fmt.Sprintf("%s[%d].", key, i)
		s, err := r.settings(where, m, true)
		if err != nil {
			return nil, err
		}
		if err := r.checkEntry(key, where, s); err != nil {
			return nil, err
		}
		out = append(out, Layer{From: "config " + r.path + " " + strings.TrimSuffix(where, "."), Values: s})
	}
	return out, nil
}

// checkEntry holds an entry to what its list is for: a pool entry names
// its pool and does not discover; an account entry discovers and names no
// pool.
func (r reading) checkEntry(key, where string, s map[string]string) error {
	switch _, named := s[poolKey]; {
	case key == poolsKey && s[poolKey] == "":
		return r.errorf("%suser-pool-id is missing: every pool entry names its pool", where)
	case key == accountsKey && named:
		return r.errorf("%suser-pool-id: an account's pools are found by ListUserPools; list a single pool under pools:", where)
	}
	if key != poolsKey {
		return nil
	}
	for _, k := range r.rules.DiscoveryOnly {
		if _, set := s[k]; set {
			return r.errorf("%s%s belongs to discovery: set it at the top level or in an accounts: entry", where, k)
		}
	}
	return nil
}

// settings turns one YAML mapping into flag values, by flag name.
func (r reading) settings(where string, m map[string]*yaml.Node, inEntry bool) (map[string]string, error) {
	out := map[string]string{}
	for key, node := range m {
		if (key == poolsKey || key == accountsKey) && !inEntry {
			continue
		}
		if r.fs.Lookup(key) == nil || key == "config" {
			return nil, r.errorf("unknown key %q%s (keys are the flags of export without --, see cognito-export export -h)", where+key, suggest(key, r.fs))
		}
		if inEntry && slices.Contains(r.rules.ProcessWide, key) {
			return nil, r.errorf("%s applies to the whole run: set it at the top level, not in an entry", where+key)
		}
		v, err := scalarString(node)
		if err != nil {
			return nil, r.errorf("%s: %v", where+key, err)
		}
		out[key] = v
	}
	return out, nil
}

// scalarString gives a YAML value as a flag would take it. A list (the
// repeatable --rate) becomes comma-separated; a mapping becomes k=v pairs,
// so `rate: {UserResourceRead: 100}` works as well as a list.
func scalarString(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("want a list of plain values")
			}
			parts = append(parts, c.Value)
		}
		return strings.Join(parts, ","), nil
	case yaml.MappingNode:
		var parts []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+"="+n.Content[i+1].Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("want a value, a list or a mapping")
}

// suggest names the closest flag to a mistyped key, if one is close.
func suggest(key string, fs *flag.FlagSet) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		if d := spelling.Distance(key, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Naming is how the rest of a command line names or finds pools, besides
// the file.
type Naming struct {
	// Pool is a pool named by --user-pool-id or its variable.
	Pool bool
	// AllPools is --all-pools: every pool ListUserPools finds.
	AllPools bool
	// Choosing is --regions, --include or --exclude at the top level: which
	// of the pools found to keep.
	Choosing bool
}

// Choose says where the pools of a run come from: pools are the entries of
// the pools named (one empty entry, the flags' own pool, when neither the
// file nor discovery names any), sources the entries where discovery looks
// (--all-pools, named so, then each account). Naming pools in two places
// is refused, as is choosing among found pools when none are found.
func (f *File) Choose(n Naming) (pools, sources []Layer, err error) {
	discovering := n.AllPools || len(f.Accounts) > 0
	pools = f.Pools
	switch {
	case len(pools) > 0 && n.Pool:
		return nil, nil, fault.Usagef(fmt.Sprintf("--user-pool-id and the pools of %s: name the pools in one place only", f.Path))
	case n.AllPools && n.Pool:
		return nil, nil, fault.Usagef("--user-pool-id and --all-pools: name one pool, or find them all")
	case len(pools) == 0 && !discovering:
		pools = []Layer{{}}
	}
	if !discovering && n.Choosing {
		return nil, nil, fault.Usagef("--regions, --include and --exclude choose among the pools ListUserPools finds: add --all-pools (or accounts: in the config file)")
	}
	if n.AllPools {
		sources = append(sources, Layer{From: "--all-pools"})
	}
	return pools, append(sources, f.Accounts...), nil
}
