package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cognito-export/cognito-export/identity"
	"github.com/cognito-export/cognito-export/internal/spelling"
	"go.yaml.in/yaml/v3"
)

// Every flag can also come from the environment and from a YAML file; the
// first of these that names a flag wins:
//
//	command line > COGNITO_EXPORT_<FLAG> > the file's pool entry > the file's top level > default
//
// The sources are folded into the same flag.FlagSet the command line uses,
// so a value is checked the same way wherever it comes from.

// envPrefix starts the environment variable of every flag.
const envPrefix = "COGNITO_EXPORT_"

// envName is the variable of a flag: --user-pool-id is COGNITO_EXPORT_USER_POOL_ID.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// processWide flags concern the whole process, not one pool: they are
// rejected inside a pool entry, and --rate and --rate-share build the
// limiters that every pool shares.
var processWide = []string{"config", "log-format", "metrics-addr", "push-gateway", "metrics-format", "progress-interval", "parallel-pools", "dry-run", "rate", "rate-share", "run-id",
	"all-pools", "shard", "shard-count", "index"}

// discoveryOnly flags say how pools are found (ListUserPools in each
// region): they belong at the top level or in an accounts entry, never in
// the entry of one pool, which has one region and no patterns.
var discoveryOnly = []string{"regions", "include", "exclude"}

// fileConfig is a parsed config file: top-level settings and, optionally,
// several pools and several accounts, each a map of settings that override
// the top level. An account's pools are found by ListUserPools in each of
// its regions.
type fileConfig struct {
	path     string
	top      layer
	pools    []layer
	accounts []layer
}

// loadConfigFile reads path and rejects any key that is not a flag of fs.
func loadConfigFile(path string, fs *flag.FlagSet) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--config: %v", err)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, usageError{fmt.Sprintf("config %s: %v (want a YAML mapping of flag names to values)", path, err)}
	}
	ms := mappings{}
	raw, err := ms.of(&doc)
	if err != nil {
		return nil, usageError{fmt.Sprintf("config %s: %v (want a YAML mapping of flag names to values)", path, err)}
	}
	fc := &fileConfig{path: path, top: layer{from: "config " + path}}
	if fc.top.values, err = settings(path, "", raw, fs, false); err != nil {
		return nil, err
	}
	if fc.pools, err = entries(path, ms, raw, "pools", fs); err != nil {
		return nil, err
	}
	if fc.accounts, err = entries(path, ms, raw, "accounts", fs); err != nil {
		return nil, err
	}
	if _, ok := fc.top.values["user-pool-id"]; ok && (fc.pools != nil || fc.accounts != nil) {
		return nil, usageError{fmt.Sprintf("config %s: user-pool-id at the top level and pools: or accounts:: name the pools in pools: only", path)}
	}
	return fc, nil
}

// entries reads the list under key ("pools" or "accounts"): each entry a
// mapping of settings. A pool entry names its pool; an account entry says
// where to look for pools (role-arn, external-id, regions, include,
// exclude) and may set anything a pool entry may.
func entries(path string, ms mappings, raw map[string]*yaml.Node, key string, fs *flag.FlagSet) ([]layer, error) {
	node, ok := raw[key]
	if !ok {
		return nil, nil
	}
	list, err := ms.list(node)
	if err != nil || len(list) == 0 {
		if key == "pools" {
			return nil, usageError{fmt.Sprintf("config %s: pools: want a list of mappings, each with at least user-pool-id", path)}
		}
		return nil, usageError{fmt.Sprintf("config %s: accounts: want a list of mappings, each with role-arn and regions", path)}
	}
	var out []layer
	for i, m := range list {
		where := fmt.Sprintf("%s[%d].", key, i)
		s, err := settings(path, where, m, fs, true)
		if err != nil {
			return nil, err
		}
		switch _, named := s["user-pool-id"]; {
		case key == "pools" && s["user-pool-id"] == "":
			return nil, usageError{fmt.Sprintf("config %s: %suser-pool-id is missing: every pool entry names its pool", path, where)}
		case key == "accounts" && named:
			return nil, usageError{fmt.Sprintf("config %s: %suser-pool-id: an account's pools are found by ListUserPools; list a single pool under pools:", path, where)}
		}
		if key == "pools" {
			for _, k := range discoveryOnly {
				if _, set := s[k]; set {
					return nil, usageError{fmt.Sprintf("config %s: %s%s belongs to discovery: set it at the top level or in an accounts: entry", path, where, k)}
				}
			}
		}
		out = append(out, layer{from: "config " + path + " " + strings.TrimSuffix(where, "."), values: s})
	}
	return out, nil
}

// settings turns one YAML mapping into flag values, by flag name.
func settings(path, where string, m map[string]*yaml.Node, fs *flag.FlagSet, inPool bool) (map[string]string, error) {
	out := map[string]string{}
	for key, node := range m {
		if (key == "pools" || key == "accounts") && !inPool {
			continue
		}
		if fs.Lookup(key) == nil || key == "config" {
			return nil, usageError{fmt.Sprintf("config %s: unknown key %q%s (keys are the flags of export without --, see cognito-export export -h)", path, where+key, suggest(key, fs))}
		}
		if inPool && slices.Contains(processWide, key) {
			return nil, usageError{fmt.Sprintf("config %s: %s applies to the whole run: set it at the top level, not in an entry", path, where+key)}
		}
		v, err := scalarString(node)
		if err != nil {
			return nil, usageError{fmt.Sprintf("config %s: %s: %v", path, where+key, err)}
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

// layer is one source of settings below the command line and environment.
type layer struct {
	from   string // for messages: `config FILE` or `config FILE pools[1]`
	values map[string]string
}

// applySources sets every flag the command line left unset from the
// environment, else from the first layer that names it. lookupEnv is
// os.LookupEnv outside tests.
func applySources(fs *flag.FlagSet, lookupEnv func(string) (string, bool), layers ...layer) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, name := range names {
		if onCommandLine[name] {
			continue
		}
		from, value, ok := "", "", false
		if v, set := lookupEnv(envName(name)); set {
			from, value, ok = envName(name), v, true
		} else {
			for _, l := range layers {
				if v, set := l.values[name]; set {
					from, value, ok = l.from+": "+name, v, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		if err := fs.Set(name, value); err != nil {
			return usageError{fmt.Sprintf("%s=%s: %v", from, strconv.Quote(value), err)}
		}
	}
	return nil
}

// strayEnv names the COGNITO_EXPORT_ variables of environ that set no flag
// of fs: most likely a typo, which would otherwise be ignored in silence.
func strayEnv(environ []string, fs *flag.FlagSet) []string {
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { known[envName(f.Name)] = true })
	var stray []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix) && !known[name] && name != identity.KeyEnv && name != signingKeyEnv {
			stray = append(stray, name)
		}
	}
	sort.Strings(stray)
	return stray
}
