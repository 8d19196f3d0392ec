package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cognito-export/cognito-export/internal/buildinfo"
)

// runVersion prints what made this binary: the line every file it writes
// carries as "generator", then its parts one per line.
func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("version", "version", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in := buildinfo.Read()
	fmt.Fprintln(stdout, in)
	fmt.Fprintf(stdout, "module:   %s\nversion:  %s\n", in.Module, in.Version)
	if in.Revision != "" {
		fmt.Fprintf(stdout, "revision: %s\n", in.Revision)
		if in.Time != "" {
			fmt.Fprintf(stdout, "time:     %s\n", in.Time)
		}
		fmt.Fprintf(stdout, "modified: %t\n", in.Modified)
	}
	fmt.Fprintf(stdout, "go:       %s\n", in.GoVersion)
	return nil
}
