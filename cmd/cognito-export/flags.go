package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/lease"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// errHelp means -h was asked for and the usage was printed.
var errHelp = errors.New("help requested")

// newFlagSet returns a flag set whose errors come back as one usage line
// instead of flag's default wall of text.
func newFlagSet(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: cognito-export %s\n\nflags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args and turns every problem into a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp // flag printed the usage already
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v (see cognito-export %s -h)", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (flags start with --; see cognito-export %s -h)", fs.Name(), fs.Arg(0), fs.Name())}
	}
	return nil
}

// rateFlags collects repeated --rate category=rps values; one value may
// also hold several, comma-separated, as the environment and the config
// file give them.
type rateFlags []string

func (r *rateFlags) String() string { return strings.Join(*r, ",") }
func (r *rateFlags) Set(v string) error {
	*r = append(*r, splitList(v)...)
	return nil
}

// splitList is a comma-separated flag's values, blanks dropped.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// limitFlags are --rate and --rate-share: the limiters every command that
// calls Cognito paces its calls with.
type limitFlags struct {
	rates rateFlags
	share float64
}

func (l *limitFlags) bind(fs *flag.FlagSet) {
	fs.Var(&l.rates, "rate", "requests/second of a quota category, e.g. UserResourceRead=100 (repeatable or comma-separated; 0 = unlimited)")
	fs.Float64Var(&l.share, "rate-share", 1, "share of Cognito's default quotas to use, e.g. 0.8 to leave head-room")
}

// build makes the rate limiters from the flags.
func (l *limitFlags) build() (*ratelimit.Set, error) {
	newSet, err := l.maker()
	if err != nil {
		return nil, err
	}
	return newSet(), nil
}

// maker checks the flags and returns what makes a set of limiters from
// them: a run makes one per (account, region).
func (l *limitFlags) maker() (func() *ratelimit.Set, error) {
	if l.share <= 0 || l.share > 1 {
		return nil, usageError{fmt.Sprintf("--rate-share %g: must be in (0, 1]", l.share)}
	}
	rates := map[ratelimit.Category]float64{}
	for _, r := range l.rates {
		name, value, ok := strings.Cut(r, "=")
		rps, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil || rps < 0 {
			return nil, usageError{fmt.Sprintf("--rate %q: want CATEGORY=RPS, e.g. UserResourceRead=100", r)}
		}
		c, err := ratelimit.ParseCategory(name)
		if err != nil {
			return nil, usageError{"--rate: " + err.Error()}
		}
		rates[c] = rps
	}
	share := l.share
	return func() *ratelimit.Set { return ratelimit.NewSet(rates, share) }, nil
}

// leaseFlag is --lease: on (the default) or off.
type leaseFlag struct{ off *bool }

func (l leaseFlag) String() string {
	if l.off != nil && *l.off {
		return "off"
	}
	return "on"
}

func (l leaseFlag) Set(v string) error {
	switch v {
	case "on":
		*l.off = false
	case "off":
		*l.off = true
	default:
		return fmt.Errorf("%q: want on or off", v)
	}
	return nil
}

// bindLease adds --lease and --lease-ttl, of an export's output or a
// diff's.
func bindLease(fs *flag.FlagSet, off *bool, ttl *time.Duration) {
	fs.Var(leaseFlag{off}, "lease", "on: take the output's lease (_lease.json) before writing anything, so that two runs never write one output at once; off: write without one (a store without conditional writes)")
	fs.DurationVar(ttl, "lease-ttl", lease.DefaultTTL, "how long the lease lasts unless renewed (every third of it): a killed run's output can be taken over once it has passed")
}

// bindRetention binds the S3 Object Lock flags of the commands that write
// evidence: export (and its diff and report), diff and report.
func bindRetention(fs *flag.FlagSet, r *s3dest.Retention) {
	fs.StringVar(&r.Mode, "object-lock-mode", "", "put every file written under S3 Object Lock retention: governance or compliance (with --object-lock-retain-days; the bucket must have Object Lock enabled)")
	fs.IntVar(&r.Days, "object-lock-retain-days", 0, "days each file is retained from when it is written (with --object-lock-mode)")
}

// splitArgs takes up to max positional arguments out of args, wherever
// they stand among the flags. Flags take a value unless named in bools.
func splitArgs(cmd string, args []string, max int, bools map[string]bool) ([]string, []string, error) {
	var pos, rest []string
	tooMany := func(a string) error {
		return usageError{fmt.Sprintf("%s: unexpected argument %q: %d locations at most", cmd, a, max)}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, p := range args[i+1:] {
				if len(pos) == max {
					return nil, nil, tooMany(p)
				}
				pos = append(pos, p)
			}
			return pos, rest, nil
		case strings.HasPrefix(a, "-"):
			rest = append(rest, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(a, "=") && !bools[name] && a != "-h" && a != "--help" && a != "-help" && i+1 < len(args) {
				rest, i = append(rest, args[i+1]), i+1
			}
		case len(pos) < max:
			pos = append(pos, a)
		default:
			return nil, nil, tooMany(a)
		}
	}
	return pos, rest, nil
}
