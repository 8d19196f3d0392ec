package review

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cognito-export/cognito-export/asff"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/hubimport"
	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/report"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

// ASFFOptions say where a report's findings go as AWS Security Finding
// Format.
type ASFFOptions struct {
	// File is where the findings are written (a file or an S3 object);
	// what it held before is the last report's findings, which those gone
	// since are archived against.
	File string
	// Account is the pool's AWS account (12 digits), which the findings
	// and the product ARN name.
	Account string
	// SecurityHub imports the findings with BatchImportFindings, in the
	// pool's region, before File is written: File then says what Security
	// Hub holds.
	SecurityHub bool
}

// writeASFF builds the ASFF findings of r against the last ones in
// opts.File, imports them when asked, then writes them to opts.File.
func writeASFF(ctx context.Context, r *report.Report, opts ASFFOptions, s3opts s3dest.Options, stdout io.Writer) error {
	loc, err := location.Parse(opts.File)
	if err != nil {
		return fault.Usagef(fmt.Sprintf("report: --asff %s: %v", opts.File, err))
	}
	dir, name, ok := loc.Split()
	if !ok || loc.NamesDirectory() {
		return fault.Usagef(fmt.Sprintf("report: --asff %s: want a file", opts.File))
	}
	out, err := dir.OpenWrite(ctx, s3opts)
	if err != nil {
		return fmt.Errorf("report: --asff %s: %w", opts.File, err)
	}
	var previous []asff.Finding
	data, err := out.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("report: read the last findings in %s: %w", opts.File, err)
	}
	if data != nil {
		if previous, err = asff.Read(bytes.NewReader(data)); err != nil {
			return fault.Usagef(fmt.Sprintf("report: --asff %s holds no findings this program wrote (%v): name a new file", opts.File, err))
		}
	}
	findings, err := asff.Build(r, asff.Target{Account: opts.Account}, previous, time.Now())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if opts.SecurityHub && len(findings) > 0 {
		hub, err := hubimport.New(ctx, r.Export.Region)
		if err != nil {
			return err
		}
		res, err := hub.Import(ctx, findings)
		if err != nil {
			return fmt.Errorf("report: %w (%s not written; run again to retry)", err, opts.File)
		}
		fmt.Fprintf(stdout, "security hub: imported %d findings in %d requests to %s\n", res.Imported, res.Batches, asff.ProductArn("", r.Export.Region, opts.Account))
	}
	var buf bytes.Buffer
	if err := asff.Write(&buf, findings); err != nil {
		return err
	}
	if err := out.Put(ctx, name, buf.Bytes()); err != nil {
		return fmt.Errorf("report: write %s: %w", opts.File, err)
	}
	active := 0
	for _, f := range findings {
		if f.RecordState == "ACTIVE" {
			active++
		}
	}
	fmt.Fprintf(stdout, "asff: %s (%d active, %d archived)\n", opts.File, active, len(findings)-active)
	return nil
}
