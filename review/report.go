package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// ReportOptions say how the access review of an export is made and where
// it goes.
type ReportOptions struct {
	// Options are the report's own: its caps, the privileged groups, and
	// Previous, a comparison already made (export --diff-against has just
	// diffed the same exports), nil without one.
	report.Options
	// Output is the page: a file, a directory (report.html in it) or
	// s3://bucket/prefix/report.html; report.json goes beside it.
	Output string
	// Against is the export to compare with when no comparison is given:
	// a location, "latest" (the newest earlier export of the pool beside
	// this one) or "" for none.
	Against string
	// FailOn names findings whose presence is a FindingsError.
	FailOn []string
	// Log gets the warnings, such as an earlier export "latest" passed
	// over; nil discards them.
	Log *slog.Logger
	// Decisions is the previous review's decisions.csv to check against
	// this export and the previous one; "" for none.
	Decisions string
	// Built, when set, is given the report once it is written, before the
	// FailOn gate: export's metrics count its findings.
	Built func(*report.Report)
	// Signers is what the export's signature is held to: a bad one always
	// stops the report, a missing or untrusted one when Signers.Allowed is
	// set (report --allowed-signers).
	Signers reader.SignatureCheck
	// ASFF, when set, writes the findings as AWS Security Finding Format
	// after the report, and may import them into Security Hub.
	ASFF *ASFFOptions
}

// FindingsError is a report whose FailOn findings are present: the report
// is written, and the run exits 1.
type FindingsError struct{ Present []string }

func (e FindingsError) Error() string {
	return "report: findings named by --fail-on are present: " + strings.Join(e.Present, ", ")
}

// Report verifies the export at where (and the one it is compared with),
// builds the report and writes report.json, then the page, and prints
// one line saying where they are and which findings are present. s3opts
// reach the exports and the page when they are on S3.
func Report(ctx context.Context, where string, opts ReportOptions, s3opts s3dest.Options, stdout io.Writer) error {
	cur, err := openVerified(ctx, where, opts.Signers, s3opts)
	if err != nil {
		return err
	}
	ro := opts.Options
	if ro.Previous == nil && opts.Against != "" {
		if ro.Previous, err = compare(ctx, cur, opts.Against, opts.Privileged, s3opts, opts.Log); err != nil {
			return err
		}
	}
	if opts.Decisions != "" {
		log := opts.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		if ro.Decided, err = decided(ctx, opts.Decisions, cur, ro.Previous, s3opts, log); err != nil {
			return err
		}
	}
	r, err := report.Build(ctx, cur, ro)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmpl, err := template(r)
	if err != nil {
		return err
	}
	dest, dir, page, err := openReportOutput(ctx, opts.Output, s3opts)
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
	tmplName := path.Join(path.Dir(page), TemplateName)
	if err := dest.Put(ctx, tmplName, tmpl); err != nil {
		return fmt.Errorf("report: write %s: %w", tmplName, err)
	}
	if err := dest.Put(ctx, page, html.Bytes()); err != nil {
		return fmt.Errorf("report: write %s: %w", page, err)
	}
	fmt.Fprintf(stdout, "report: %s and %s (%s bytes); findings: %s\n", dir.File(page), jsonName, Thousands(int64(html.Len())), findings(r))
	if opts.Built != nil {
		opts.Built(r)
	}
	if opts.ASFF != nil {
		if err := writeASFF(ctx, r, *opts.ASFF, s3opts, stdout); err != nil {
			return err
		}
	}
	present, err := r.Present(opts.FailOn)
	if err != nil {
		return fault.Usagef("report: --fail-on: " + err.Error())
	}
	if len(present) > 0 {
		return FindingsError{present}
	}
	return nil
}

// findings names the findings present, with their counts: "none" when
// there are none.
func findings(r *report.Report) string {
	var present []string
	for _, fd := range r.Findings {
		if fd.Count > 0 {
			present = append(present, fmt.Sprintf("%s %d", fd.ID, fd.Count))
		}
	}
	if present == nil {
		return "none"
	}
	return strings.Join(present, ", ")
}

// openVerified opens an export and checks it as verify does: a report is
// evidence, so it is never made from an export that is not intact.
func openVerified(ctx context.Context, where string, check reader.SignatureCheck, opts s3dest.Options) (report.Side, error) {
	src, err := reader.Open(ctx, where, opts)
	if err != nil {
		return report.Side{}, inputError(where, err)
	}
	res, err := reader.Verify(ctx, src, func(reader.Problem) {})
	if err != nil {
		return report.Side{}, inputError(where, err)
	}
	if !res.Intact() {
		return report.Side{}, fmt.Errorf("report: the export at %s is not intact (%s): run cognito-export verify %s", src, Plural(res.Problems, "problem"), where)
	}
	var bad []string
	sig, err := reader.CheckSignature(ctx, src, res.Manifest, check, func(p reader.Problem) { bad = append(bad, p.String()) })
	if err != nil {
		return report.Side{}, inputError(where, err)
	}
	if len(bad) > 0 {
		return report.Side{}, fmt.Errorf("report: the export at %s is not signed as required: %s", src, strings.Join(bad, "; "))
	}
	return report.Side{Source: src, Manifest: res.Manifest, Location: src.String(), Signature: sig}, nil
}

func inputError(where string, err error) error {
	if errors.Is(err, reader.ErrNoExport) {
		return fault.Usagef("report: " + err.Error())
	}
	return fmt.Errorf("report: read %s: %w", where, err)
}

// reportDest is where the page and report.json go.
type reportDest interface {
	sink.Putter
	String() string
}

// openReportOutput splits the page's location into a directory and the
// page's name: a directory (existing, or ending in /) gets report.html.
func openReportOutput(ctx context.Context, output string, opts s3dest.Options) (reportDest, location.Location, string, error) {
	fail := func(err error) (reportDest, location.Location, string, error) {
		return nil, location.Location{}, "", err
	}
	loc, err := location.Parse(output)
	if err != nil {
		return fail(fault.Usagef(fmt.Sprintf("report: --output %s: %v", output, err)))
	}
	dir, name := loc, "report.html"
	if !loc.NamesDirectory() {
		var ok bool
		if dir, name, ok = loc.Split(); !ok {
			return fail(fault.Usagef(fmt.Sprintf("report: --output %s: want a file or a directory", output)))
		}
	}
	d, err := dir.OpenWrite(ctx, opts)
	switch {
	case err != nil && loc.IsS3():
		return fail(fmt.Errorf("report: --output %s: %w", output, err))
	case err != nil:
		// A local directory that cannot be made is the user's to fix.
		return fail(fault.Usagef(fmt.Sprintf("report: --output %s: %v", output, err)))
	}
	return d, dir, name, nil
}
