package export

import "testing"

// Every name the export writes is one it owns, so a resume can prune it
// when no checkpoint names it; names it did not write are left alone.
func TestOwnedNamesAreTheExportsOwn(t *testing.T) {
	for _, name := range []string{
		partName("parquet")(0), partName("csv")(41), partName("csv")(123456),
		doneName(0), membersName(7), ManifestName, SummaryName, CheckpointName,
	} {
		if !owned(name) {
			t.Errorf("owned(%q) = false for a name the export writes", name)
		}
	}
	for _, name := range []string{
		"part-1.csv", "part-00000.json", "part-00000.csv.bak", "_members-0001.bin", "_done-0000000x.bin",
		"notes.txt", "sub/part-00000.csv", "_checkpoint.json.bak", "manifest.json.old", ".tmp-part-00000.csv-123",
	} {
		if owned(name) {
			t.Errorf("owned(%q) = true for a name the export does not write", name)
		}
	}
	remove := orphans(map[string]bool{"part-00000.csv": true, "_members-00000000.bin": true})
	if remove("part-00000.csv") || remove("_members-00000000.bin") || !remove("_members-00000001.bin") || remove("notes.txt") {
		t.Error("orphans: kept names must stay, owned ones not kept must go, foreign ones stay")
	}
}
