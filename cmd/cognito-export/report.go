package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/sink"
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

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// errFindings is a report whose --fail-on findings are present: exit 1.
type errFindings struct{ present []string }

func (e errFindings) Error() string {
	return "report: findings named by --fail-on are present: " + strings.Join(e.present, ", ")
}

func runReport(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("report", "report EXPORT [--previous OLD|latest] --output report.html [flags]", stdout)
	var f reportFlags
	fs.StringVar(&f.output, "output", "", "the page: a file, a directory (report.html in it) or s3://bucket/prefix/report.html; report.json is written beside it (required)")
	fs.StringVar(&f.previous, "previous", "", "a previous export to compare with, or latest: the newest complete export among EXPORT's sibling prefixes")
	f.bind(fs, "")
	fs.StringVar(&f.s3.Region, "region", "", "AWS region of the S3 buckets (default: the SDK's chain, e.g. AWS_REGION)")
	fs.StringVar(&f.s3.EndpointURL, "endpoint-url", "", "S3 endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL_S3)")
	var prof profileFlags
	prof.bind(fs)
	pos, rest, err := splitArgs("report", args, 1, nil)
	if err != nil {
		return err
	}
	location := ""
	if len(pos) == 1 {
		location = pos[0]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if location == "" {
		return usageError{"report: missing EXPORT, a directory or s3://bucket/prefix/ (see cognito-export report -h)"}
	}
	if f.output == "" {
		return usageError{"report: missing --output, the page's file or s3:// URL (see cognito-export report -h)"}
	}
	allowHeap(diffMemoryLimit) // a report reads an export, and diffs two
	if err := f.check(); err != nil {
		return err
	}
	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	err = makeReport(ctx, location, f, nil, stdout)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	return err
}

// makeReport verifies the export (and the previous one), builds the report
// and writes the page and report.json. given is a comparison already made
// (export --diff-against has just diffed the same exports); without it,
// f.previous is compared here.
func makeReport(ctx context.Context, location string, f reportFlags, given *report.Comparison, stdout io.Writer) error {
	cur, err := openVerified(ctx, location, f.s3)
	if err != nil {
		return err
	}
	opts := report.Options{MaxGroupsPerUser: f.maxGroups, MaxListed: f.maxListed, MaxFindingRows: f.maxRows, Privileged: splitList(f.privileged), Previous: given}
	if given == nil && f.previous != "" {
		if opts.Previous, err = compare(ctx, cur, f); err != nil {
			return err
		}
	}
	r, err := report.Build(ctx, cur, opts)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	dest, dir, page, err := openReportOutput(ctx, f.output, f.s3)
	if err != nil {
		return err
	}
	var html, js bytes.Buffer
	if err := report.WriteHTML(&html, r); err != nil {
		return err
	}
	if err := report.WriteJSON(&js, r); err != nil {
		return err
	}
	jsonName := strings.TrimSuffix(page, path.Ext(page)) + ".json"
	// report.json first: a page without its JSON would let a pipeline that
	// waits for the page read a stale report.json.
	if err := dest.Put(ctx, jsonName, js.Bytes()); err != nil {
		return fmt.Errorf("report: write %s: %w", jsonName, err)
	}
	if err := dest.Put(ctx, page, html.Bytes()); err != nil {
		return fmt.Errorf("report: write %s: %w", page, err)
	}
	var summary []string
	for _, fd := range r.Findings {
		if fd.Count > 0 {
			summary = append(summary, fmt.Sprintf("%s %d", fd.ID, fd.Count))
		}
	}
	if summary == nil {
		summary = []string{"none"}
	}
	fmt.Fprintf(stdout, "report: %s and %s (%s bytes); findings: %s\n", dir.File(page), jsonName, thousands(int64(html.Len())), strings.Join(summary, ", "))
	present, err := r.Present(splitList(f.failOn))
	if err != nil {
		return usageError{"report: --fail-on: " + err.Error()}
	}
	if len(present) > 0 {
		return errFindings{present}
	}
	return nil
}

// openVerified opens an export and checks it as verify does: a report is
// evidence, so it is never made from an export that is not intact.
func openVerified(ctx context.Context, location string, opts s3dest.Options) (report.Side, error) {
	src, err := reader.Open(ctx, location, opts)
	if err != nil {
		return report.Side{}, reportInputError(location, err)
	}
	res, err := reader.Verify(ctx, src, func(reader.Problem) {})
	if err != nil {
		return report.Side{}, reportInputError(location, err)
	}
	if !res.Intact() {
		return report.Side{}, fmt.Errorf("report: the export at %s is not intact (%s): run cognito-export verify %s", src, plural(res.Problems, "problem"), location)
	}
	return report.Side{Source: src, Manifest: res.Manifest, Location: src.String()}, nil
}

func reportInputError(location string, err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return usageError{"report: " + err.Error()}
	}
	return fmt.Errorf("report: read %s: %w", location, err)
}

// reportDest is where the page and report.json go.
type reportDest interface {
	sink.Putter
	String() string
}

// openReportOutput splits --output into a location and the page's name: a
// directory (existing, or ending in /) gets report.html.
func openReportOutput(ctx context.Context, output string, opts s3dest.Options) (reportDest, location.Location, string, error) {
	loc, err := location.Parse(output)
	if err != nil {
		return nil, location.Location{}, "", usageError{fmt.Sprintf("report: --output %s: %v", output, err)}
	}
	dir, name := loc, "report.html"
	if !loc.NamesDirectory() {
		var ok bool
		if dir, name, ok = loc.Split(); !ok {
			return nil, location.Location{}, "", usageError{fmt.Sprintf("report: --output %s: want a file or a directory", output)}
		}
	}
	d, err := dir.OpenWrite(ctx, opts)
	switch {
	case err != nil && loc.IsS3():
		return nil, location.Location{}, "", fmt.Errorf("report: --output %s: %w", output, err)
	case err != nil:
		return nil, location.Location{}, "", usageError{fmt.Sprintf("report: --output %s: %v", output, err)}
	}
	return d, dir, name, nil
}
