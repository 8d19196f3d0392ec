package export

import (
	"context"
	"fmt"
)

// WriteOutputFile writes a small file, such as the run summary, into the
// export's output (directory or S3 prefix), atomically.
func WriteOutputFile(ctx context.Context, cfg Config, name string, data []byte) error {
	s3opts := cfg.s3Options()
	out, err := openOutput(ctx, cfg.Output, s3opts)
	if err != nil {
		return err
	}
	if err := out.Put(ctx, name, data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
