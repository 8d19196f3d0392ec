package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cognito-export/cognito-export/configfile"
	"github.com/cognito-export/cognito-export/identity"
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

// fileRules are what a config file's entries may not set: the flags of
// the whole process (--rate and --rate-share build the limiters that every
// pool shares), and those that say how pools are found, which an account's
// entry may set but a pool's may not.
var fileRules = configfile.Rules{
	ProcessWide: []string{"config", "log-format", "metrics-addr", "push-gateway", "metrics-format", "progress-interval", "parallel-pools", "dry-run", "rate", "rate-share", "run-id",
		"all-pools", "shard", "shard-count", "index"},
	DiscoveryOnly: []string{"regions", "include", "exclude"},
}

// loadConfigFile reads path and rejects any key that is not a flag of fs.
func loadConfigFile(path string, fs *flag.FlagSet) (*configfile.File, error) {
	return configfile.Load(path, fs, fileRules)
}

// applySources sets every flag the command line left unset from the
// environment, else from the first layer that names it. lookupEnv is
// os.LookupEnv outside tests.
func applySources(fs *flag.FlagSet, lookupEnv func(string) (string, bool), layers ...configfile.Layer) error {
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
				if v, set := l.Values[name]; set {
					from, value, ok = l.From+": "+name, v, true
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
