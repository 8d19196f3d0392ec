// Command cognito-export audits and exports the group memberships of every
// user in an Amazon Cognito user pool.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/memlimit"
	"github.com/cognito-export/cognito-export/review"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK      = 0
	exitFailure = 1 // a resume can finish it once the cause is fixed
	exitUsage   = 2
	// Interrupted by a signal: 128 + the signal number (130 SIGINT, 143
	// SIGTERM), which a scheduler can treat as "resume later".
)

const usageText = `usage: cognito-export <command> [flags]

commands:
  export                 export every user's group memberships of a pool
  list-groups-for-user   page through one user's groups like boto3's paginator
  athena-ddl             print an Athena table over exports laid out by account, region, pool and day
  demo                   export a synthetic pool from the built-in emulator
  emulate                serve the built-in Cognito emulator over HTTP
  verify LOCATION        check an export against its manifest: exit 0 intact,
                         1 not (each problem named), 2 no complete export there
  diff OLD NEW --output  what changed between two exports of a pool: one row per
                         user, membership or field added, removed or changed
  report EXPORT          the access review of an export: one HTML page and
                         report.json (--fail-on exits 1 on named findings)
  remediation            the AWS CLI script that removes the memberships reviewers
                         revoked and an export still holds, and the policy to run it
  version                what made this binary: module version, VCS revision, Go version

Run "cognito-export <command> -h" for the flags of a command.
`

func main() {
	tuneGC()
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		// A second signal gets the default behaviour: an impatient operator
		// can still kill the process outright.
		signal.Stop(sigs)
		cancel(fault.Interrupted{Signal: sig.(syscall.Signal)})
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// tuneGC trades heap for CPU: package memlimit sets GOGC (400 while the
// live heap is small, lower for a large one) and the soft memory limit
// from the memory the process may use. GOGC and GOMEMLIMIT in the
// environment win.
func tuneGC() {
	memory = memlimit.Start("/", os.Getenv)
}

// memory is the process's memory limit, which commands raise when they
// will hold a large live set. Set by main only: the runtime's limit is
// the process's, and tests that call run leave it alone (nil).
var memory *memlimit.Governor

// diffHeap is what a diff or report holds live: a row group and two
// partitions (about 60 MB for any size of pool), with room to spare; the
// limit is at least twice it.
const diffHeap = 112 << 20

// usageError is a bad command line: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		fmt.Fprintln(stderr, "cognito-export: no command given (usage above)")
		return exitUsage
	}
	var err error
	switch args[0] {
	case "export":
		err = runExport(ctx, args[1:], stdout, stderr)
	case "list-groups-for-user":
		err = runListGroups(ctx, args[1:], stdout, stderr)
	case "athena-ddl":
		err = runAthenaDDL(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "emulate":
		err = runEmulate(ctx, args[1:], stdout, stderr)
	case "verify":
		err = runVerify(ctx, args[1:], stdout, stderr)
	case "diff":
		err = runDiff(ctx, args[1:], stdout, stderr)
	case "report":
		err = runReport(ctx, args[1:], stdout, stderr)
	case "remediation":
		err = runRemediation(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		err = runVersion(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "%scognito-export: unknown command %q (usage above)\n", usageText, args[0])
		return exitUsage
	}
	return exitCode(ctx, args[0], err, stderr)
}

// exitCode prints err as one line and maps it to the exit code.
func exitCode(ctx context.Context, command string, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if errors.Is(err, review.ErrNotIntact) || errors.Is(err, review.ErrNotRetained) || errors.Is(err, errChanges) {
		return exitFailure // its problems and verdict are printed
	}
	if sig, ok := fault.InterruptedBy(ctx); ok {
		what := "the export"
		if command == "diff" {
			what = "the diff"
		}
		fmt.Fprintf(stderr, "cognito-export: %v; %s is not complete (no manifest.json)\n", sig, what)
		return 128 + int(sig.Signal)
	}
	fmt.Fprintf(stderr, "cognito-export: %v\n", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isUsage reports whether err is the user's to fix: a bad command line
// here, or a library's error of kind fault.Usage.
func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || fault.KindOf(err) == fault.Usage
}
