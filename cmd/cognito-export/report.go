package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"

	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/review"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// reportFlags are report's settings, shared with export --report.
type reportFlags struct {
	output     string
	previous   string
	maxGroups  int
	maxListed  int
	maxRows    int
	privileged string
	failOn     string
	decisions  string
	s3         s3dest.Options
	prefix     string // of the flags' names: "" for report, "report-" for export
}

func (f *reportFlags) bind(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
}, prefix string) {
	f.prefix = prefix
	fs.IntVar(&f.maxGroups, prefix+"max-groups-per-user", report.DefaultMaxGroupsPerUser, "a user in more groups than this is a TOO_MANY_GROUPS finding")
	fs.IntVar(&f.maxListed, prefix+"max-listed", report.DefaultMaxListed, "memberships of privileged groups listed in the page and report.json (all are counted)")
	fs.IntVar(&f.maxRows, prefix+"max-finding-rows", report.DefaultMaxFindingRows, "rows of each finding kept in report.json (the count is always exact; truncated says rows were left out)")
	fs.StringVar(&f.privileged, prefix+"privileged-groups", "", "comma-separated groups listed in full like those with a role ARN")
	fs.StringVar(&f.failOn, prefix+"fail-on", "", "comma-separated finding ids (e.g. DISABLED_WITH_GROUPS): exit 1 when any is present")
	fs.StringVar(&f.decisions, prefix+"decisions", "", "the previous review's decisions.csv: checked against this export (REVOKE_NOT_APPLIED, REVOKED_MEMBER_READDED) and the previous one (PRIVILEGED_NOT_REVIEWED)")
}

func (f *reportFlags) check() error {
	if f.maxGroups < 1 || f.maxListed < 1 || f.maxRows < 1 {
		return usageError{fmt.Sprintf("report: --%[1]smax-groups-per-user, --%[1]smax-listed and --%[1]smax-finding-rows must be at least 1", f.prefix)}
	}
	if err := report.CheckIDs(splitList(f.failOn)); err != nil {
		return usageError{"report: --" + f.prefix + "fail-on: " + err.Error()}
	}
	return nil
}

// options are the report's settings as review takes them.
func (f *reportFlags) options() review.ReportOptions {
	return review.ReportOptions{
		Options: report.Options{MaxGroupsPerUser: f.maxGroups, MaxListed: f.maxListed, MaxFindingRows: f.maxRows, Privileged: splitList(f.privileged)},
		Output:  f.output, Against: f.previous, FailOn: splitList(f.failOn), Decisions: f.decisions,
	}
}

// asffFlags send the report's findings where a security team triages.
type asffFlags struct {
	file, account string
	securityHub   bool
}

func (a *asffFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&a.file, "asff", "", "also write the findings as AWS Security Finding Format to this file or s3:// object; what it held is the last report's findings, and those gone since are written ARCHIVED")
	fs.StringVar(&a.account, "asff-account", "", "the pool's AWS account id (12 digits), named by --asff's findings and product ARN")
	fs.BoolVar(&a.securityHub, "security-hub", false, "import --asff's findings into AWS Security Hub (BatchImportFindings) in the pool's region before writing the file")
}

// options are the ASFF settings, nil without --asff.
func (a *asffFlags) options() (*review.ASFFOptions, error) {
	switch {
	case a.file == "" && (a.securityHub || a.account != ""):
		return nil, usageError{"report: --security-hub and --asff-account need --asff FILE, which keeps the last findings for the next run"}
	case a.file == "":
		return nil, nil
	case !regexp.MustCompile(`^\d{12}$`).MatchString(a.account):
		return nil, usageError{"report: --asff needs --asff-account, the pool's 12-digit AWS account id"}
	}
	return &review.ASFFOptions{File: a.file, Account: a.account, SecurityHub: a.securityHub}, nil
}

// reportCmdFlags are the flags of report: the report's own, which export
// --report shares, and those of the command alone.
type reportCmdFlags struct {
	reportFlags
	hub     asffFlags
	prof    profileFlags
	signers signerFlags
}

func (f *reportCmdFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "", "the page: a file, a directory (report.html in it) or s3://bucket/prefix/report.html; report.json is written beside it (required)")
	fs.StringVar(&f.previous, "previous", "", "a previous export to compare with, or latest: the newest complete export among EXPORT's sibling prefixes")
	f.reportFlags.bind(fs, "")
	fs.StringVar(&f.s3.Region, "region", "", "AWS region of the S3 buckets (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&f.s3.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	f.hub.bind(fs)
	bindRetention(fs, &f.s3.Retention)
	f.prof.bind(fs)
	f.signers.bind(fs, "the export")
}

// reviewOptions checks the flags and makes the review's options of them.
func (f *reportCmdFlags) reviewOptions(log *slog.Logger) (review.ReportOptions, error) {
	if err := f.check(); err != nil {
		return review.ReportOptions{}, err
	}
	opts := f.options()
	opts.Log = log
	var err error
	if opts.ASFF, err = f.hub.options(); err != nil {
		return review.ReportOptions{}, err
	}
	if opts.Signers, err = f.signers.check("report"); err != nil {
		return review.ReportOptions{}, err
	}
	return opts, nil
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report EXPORT [--previous OLD|latest] --output report.html [flags]", stdout)
	var f reportCmdFlags
	f.bind(fs)
	pos, rest, err := splitArgs("report", args, 1, map[string]bool{"security-hub": true})
	if err != nil {
		return err
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"report: missing EXPORT, a directory or s3://bucket/prefix/ (see cognito-export report -h)"}
	}
	if f.output == "" {
		return usageError{"report: missing --output, the page's file or s3:// URL (see cognito-export report -h)"}
	}
	if f.previous != "" {
		// The report diffs the two exports: their partitions are live
		// beside its own accumulators, which are flat arrays. The
		// collector's room follows the scannable heap it measures rather
		// than taking all of it as pointers (10M users: 380 MB peak RSS
		// instead of 422).
		memory.HoldFlat(diffHeap, "report's diff's row group and partitions")
	}
	con, err := newConsole(stderr, "")
	if err != nil {
		return err
	}
	opts, err := f.reviewOptions(con.log)
	if err != nil {
		return err
	}
	stopProfile, err := f.prof.start()
	if err != nil {
		return err
	}
	err = review.Report(ctx, pos[0], opts, f.s3, stdout)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	return err
}
