package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func hostileRow(i int) Row {
	desc := "line1\r\nline2, \"quoted\"\t=cmd|' /C calc'!A0 🚀"
	role := "arn:aws:iam::123456789012:role/r"
	prec := int32(i % 3)
	return Row{
		UserPoolID: "us-east-1_X", Username: "名前,\"user\"" + strings.Repeat("x", i), UserSub: "sub",
		UserStatus: "CONFIRMED", UserEnabled: i%2 == 0,
		UserCreateDate:       time.Date(2020, 1, 2, 3, 4, 5, 678e6, time.UTC),
		UserLastModifiedDate: time.Date(2021, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
		GroupName:            "g,1", GroupDescription: &desc, GroupRoleArn: &role, GroupPrecedence: &prec,
		GroupCreationDate: time.Date(2019, 5, 6, 7, 8, 9, 1e6, time.UTC),
		ExportedAt:        time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
	}
}

// testName names parts as the export does.
func testName(ext string) func(int) string {
	return func(seq int) string { return fmt.Sprintf("part-%05d.%s", seq, ext) }
}

func TestCSVRoundTripsHostileStrings(t *testing.T) {
	var buf bytes.Buffer
	enc, err := newCSVEncoder(&buf, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rows := []Row{hostileRow(0), hostileRow(1), {UserPoolID: "p", Username: "nogroups"}}
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(Columns, ",") {
		t.Fatalf("header/rows = %d records, header %v", len(recs), recs[0])
	}
	got := recs[1]
	want := []string{"us-east-1_X", rows[0].Username, "sub", "CONFIRMED", "true", "2020-01-02T03:04:05.678Z",
		"2021-01-02T02:04:05.000Z", "g,1", *rows[0].GroupDescription, "arn:aws:iam::123456789012:role/r", "0",
		"2019-05-06T07:08:09.001Z", "", "2026-11-24T00:00:00.000Z"}
	for i := range want {
		// encoding/csv's reader folds \r\n inside quoted fields to \n.
		if w := strings.ReplaceAll(want[i], "\r\n", "\n"); got[i] != w {
			t.Errorf("column %s = %q, want %q", Columns[i], got[i], w)
		}
	}
	empty := recs[3]
	for i, c := range Columns {
		if c != "user_pool_id" && c != "username" && c != "user_enabled" && empty[i] != "" {
			t.Errorf("user without groups: %s = %q, want empty", c, empty[i])
		}
	}
}

// A line break inside a value is written as it is: encoding/csv's Writer
// would turn "\n" into "\r\n", and readers other than Go's keep the "\r".
func TestCSVKeepsLineBreaksInsideValues(t *testing.T) {
	var buf bytes.Buffer
	enc, err := newCSVEncoder(&buf, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	desc := "one\ntwo\r\nthree \"q\", \\."
	if err := enc.Encode(&Row{UserPoolID: "p", Username: " lead", GroupDescription: &desc}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(buf.String(), "\r\n", 2)
	if lines[0] != strings.Join(Columns, ",") {
		t.Fatalf("header %q", lines[0])
	}
	want := "p,\" lead\",,,false,,,,\"one\ntwo\r\nthree \"\"q\"\", \\.\",,,,,\r\n"
	if lines[1] != want {
		t.Fatalf("record\n got %q\nwant %q", lines[1], want)
	}
}

func TestWriterRollsPartsAndManifestDescribesThem(t *testing.T) {
	dir := t.TempDir()
	dest, err := openTestDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dest, WriterOptions{Format: "csv", Name: testName("csv"), PartRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows := make([]Row, 7)
	for i := range rows {
		rows[i] = hostileRow(i)
	}
	writeRolling(t, w, rows)
	parts := w.Parts()
	if len(parts) != 3 || parts[0].Rows != 3 || parts[2].Rows != 1 || parts[2].Name != "part-00002.csv" {
		t.Fatalf("parts = %+v", parts)
	}
	for _, p := range parts {
		data, err := os.ReadFile(filepath.Join(dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != p.SHA256 || int64(len(data)) != p.Bytes {
			t.Errorf("%s: sha/bytes in PartInfo do not match the file", p.Name)
		}
	}
	if err := WriteManifest(ctx, dest, "manifest.json", Manifest{Format: "csv", Parts: parts}); err != nil {
		t.Fatal(err)
	}
	var m Manifest
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil || len(m.Parts) != 3 || m.SchemaVersion != SchemaVersion {
		t.Fatalf("manifest = %+v, err %v", m, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// writeRolling writes rows one by one, ending a part whenever it is full, as
// the export does at page boundaries.
func writeRolling(t *testing.T, w *Writer, rows []Row) {
	t.Helper()
	ctx := context.Background()
	for i := range rows {
		if err := w.Write(ctx, rows[i:i+1]); err != nil {
			t.Fatal(err)
		}
		if w.Full() {
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAbortLeavesNoVisiblePart(t *testing.T) {
	dir := t.TempDir()
	dest, _ := openTestDir(dir)
	w, _ := NewWriter(dest, WriterOptions{Format: "csv", Name: testName("csv")})
	if err := w.Write(context.Background(), []Row{hostileRow(0)}); err != nil {
		t.Fatal(err)
	}
	w.Abort(context.Background())
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("after abort the directory holds %v", entries)
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := NewWriter(nil, WriterOptions{Format: "xml"})
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Fatalf("err = %v", err)
	}
}

// fullDisk is a part that fails after its budget of bytes, like a disk that fills up.
type fullDisk struct{ left int }

func (f *fullDisk) Write(_ context.Context, b []byte) error {
	if len(b) > f.left {
		f.left = 0
		return errors.New("no space left on device")
	}
	f.left -= len(b)
	return nil
}
func (f *fullDisk) Commit(context.Context) error { return nil }
func (f *fullDisk) Abort(context.Context)        {}

type fullDest struct{ part *fullDisk }

func (d fullDest) Create(context.Context, string) (Part, error) { return d.part, nil }

func TestWriteErrorIsNeverSwallowed(t *testing.T) {
	w, _ := NewWriter(fullDest{&fullDisk{left: 1000}}, WriterOptions{Format: "csv", Name: testName("csv")})
	ctx := context.Background()
	var err error
	for i := 0; i < 5000 && err == nil; i++ {
		err = w.Write(ctx, []Row{hostileRow(i % 5)})
	}
	if err == nil {
		err = w.Flush(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("err = %v, want the disk-full error", err)
	}
	if len(w.Parts()) != 0 {
		t.Fatalf("a part that failed to write was reported committed: %+v", w.Parts())
	}
}
