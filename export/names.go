package export

import (
	"fmt"
	"strings"

	"github.com/cognito-export/cognito-export/reader"
)

// The export owns the names of its files; the sink and the destinations
// know none of them. owned lists them all, so that a resume removes every
// file an interrupted run left and no checkpoint names. The two that mark
// an export for its readers (the manifest, the parts' prefix) are the
// reader's constants, so that what is written is what is read back.
const (
	// ManifestName marks a complete export: it is written last, and only
	// on success.
	ManifestName = reader.ManifestName
	// SignatureName is the manifest's signature, written just before it
	// when the run signs (--signing-key).
	SignatureName = reader.SignatureName
	// SummaryName is what a run did, written beside the manifest at the
	// end of a run, failed ones included. It never marks completion (the
	// manifest does), and a new run removes the old one first, so a
	// summary of an earlier run never sits beside an unfinished export.
	SummaryName = "summary.json"
	// CheckpointName is the default checkpoint, under the output.
	CheckpointName = "_checkpoint.json"
)

// partName numbers the parts of an export in the format's extension:
// part-00000.parquet, part-00001.parquet, ...
func partName(format string) func(seq int) string {
	return func(seq int) string { return fmt.Sprintf("%s%05d.%s", reader.PartPrefix, seq, format) }
}

// Hash files, one per commit: the users committed from ListUsers pages
// (doneName) and the (group, user) pairs committed from member lists
// (membersName).
func doneName(seq int) string    { return fmt.Sprintf("_done-%08d.bin", seq) }
func membersName(seq int) string { return fmt.Sprintf("_members-%08d.bin", seq) }

// owned reports whether name is one the export writes under its output.
func owned(name string) bool {
	switch name {
	case ManifestName, SignatureName, SummaryName, CheckpointName:
		return true
	}
	return numbered(name, reader.PartPrefix, 5, ".parquet") || numbered(name, reader.PartPrefix, 5, ".csv") ||
		numbered(name, "_done-", 8, ".bin") || numbered(name, "_members-", 8, ".bin")
}

// working reports whether name is a file the export rewrites or removes
// while it runs and at its end (the checkpoint, the hash files): under
// Object Lock these are written without retention, so that the run can
// remove them and no locked copy of each outlives it. Everything else the
// export writes is evidence.
func working(name string) bool {
	return name == CheckpointName || numbered(name, "_done-", 8, ".bin") || numbered(name, "_members-", 8, ".bin")
}

// numbered matches prefix, at least digits decimal digits, then suffix.
func numbered(name, prefix string, digits int, suffix string) bool {
	num, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	if num, ok = strings.CutSuffix(num, suffix); !ok || len(num) < digits {
		return false
	}
	return strings.Trim(num, "0123456789") == ""
}

// orphans returns the remove function of a prune: every file the export
// owns that keep does not name.
func orphans(keep map[string]bool) func(name string) bool {
	return func(name string) bool { return owned(name) && !keep[name] }
}
