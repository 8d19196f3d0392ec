package reader

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"

	"github.com/cognito-export/cognito-export/sink"
)

// Kind says what is wrong with an export.
type Kind string

// The problems Verify reports.
const (
	Changed     Kind = "changed"    // the part's SHA-256 is not the manifest's
	SizeDiffer  Kind = "size"       // the part's size is not the manifest's
	RowsDiffer  Kind = "rows"       // the part's row count is not the manifest's
	Missing     Kind = "missing"    // the manifest lists a part that is not there
	Extra       Kind = "extra"      // a part is there that the manifest does not list
	Unreadable  Kind = "unreadable" // the part does not parse in the manifest's format
	BadManifest Kind = "manifest"   // the manifest is unreadable or contradicts itself
)

// Problem is one thing wrong with an export, about one file.
type Problem struct {
	Kind   Kind
	Name   string // the part, or ManifestName
	Detail string
}

func (p Problem) String() string {
	return escaped(fmt.Sprintf("%s: %s: %s", p.Name, p.Kind, p.Detail))
}

// Result is what Verify found.
type Result struct {
	Manifest Manifest
	Parts    int   // parts the manifest lists
	Rows     int64 // rows counted in the parts read
	Bytes    int64 // bytes read from the parts
	Problems int
}

// Intact reports whether Verify found nothing wrong.
func (r Result) Intact() bool { return r.Problems == 0 }

// Verify checks the export at src against its manifest: every listed part
// is read once, as a stream, for its SHA-256, size and row count, and no
// unlisted part may sit beside them. Each problem goes to report as it is
// found. Memory does not grow with the export or a part.
//
// The error is for what stops the check, not for what it finds: no
// manifest (a NoExportError) or a failure to read (the network, a
// permission). A manifest that does not decode is a problem, not an error.
func Verify(ctx context.Context, src Source, report func(Problem)) (Result, error) {
	var res Result
	problem := func(k Kind, name, format string, args ...any) {
		res.Problems++
		report(Problem{Kind: k, Name: name, Detail: fmt.Sprintf(format, args...)})
	}
	m, err := ReadManifest(ctx, src)
	res.Manifest = m
	var bad *ManifestError
	if errors.As(err, &bad) {
		problem(BadManifest, ManifestName, "unreadable: %v", bad.Err)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Parts = len(m.Parts)
	count, ok := counters[m.Format]
	if !ok {
		problem(BadManifest, ManifestName, "format %q: want parquet or csv", m.Format)
		return res, nil
	}
	checkTotals(m, problem)
	listed := map[string]bool{}
	buf := make([]byte, copyBuffer)
	for _, p := range m.Parts {
		if !IsPart(p.Name) {
			problem(BadManifest, ManifestName, "lists %q, which is not a part's name under this location", p.Name)
			continue
		}
		if listed[p.Name] {
			problem(BadManifest, ManifestName, "lists %s twice", p.Name)
			continue
		}
		listed[p.Name] = true
		if err := verifyPart(ctx, src, p, count, buf, &res, problem); err != nil {
			return res, err
		}
	}
	names, err := src.List(ctx)
	if err != nil {
		return res, err
	}
	for _, n := range names {
		if IsPart(n) && !listed[n] {
			problem(Extra, n, "not listed in %s", ManifestName)
		}
	}
	return res, nil
}

// checkTotals compares the manifest's totals with the sum of its parts.
func checkTotals(m Manifest, problem func(Kind, string, string, ...any)) {
	var rows, bytes int64
	for _, p := range m.Parts {
		rows += p.Rows
		bytes += p.Bytes
	}
	t := m.Totals
	if t.Parts != len(m.Parts) || t.Rows != rows || t.Bytes != bytes {
		problem(BadManifest, ManifestName, "totals say %d parts, %d rows, %d bytes; its parts sum to %d, %d, %d",
			t.Parts, t.Rows, t.Bytes, len(m.Parts), rows, bytes)
	}
}

// copyBuffer is the read size: large enough that a local read runs at
// disk speed and an S3 body is drained in few calls.
const copyBuffer = 1 << 20

// counter counts the rows of a part as it streams past: r yields the
// part's bytes, and every byte of it must be read.
type counter func(ctx context.Context, r io.Reader, reopen func() (io.ReadCloser, error), size func() int64, tail *tail, buf []byte) (int64, error)

var counters = map[string]counter{"csv": countCSV, "parquet": countParquet}

// formatError marks a part that does not parse: a problem, not a failure to
// read.
type formatError struct{ msg string }

func (e formatError) Error() string { return e.msg }

func verifyPart(ctx context.Context, src Source, p sink.PartInfo, count counter, buf []byte, res *Result, problem func(Kind, string, string, ...any)) error {
	r, err := src.Open(ctx, p.Name)
	if errors.Is(err, fs.ErrNotExist) {
		problem(Missing, p.Name, "listed in %s, not there", ManifestName)
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	h := &hashing{h: sha256.New()}
	tl := newTail(tailSize)
	in := &teeReader{r: r, h: h, t: tl}
	reopen := func() (io.ReadCloser, error) { return src.Open(ctx, p.Name) }
	rows, err := count(ctx, in, reopen, func() int64 { return h.n }, tl, buf)
	var fe formatError
	if errors.As(err, &fe) {
		// The rest still counts for the size and the SHA-256.
		if _, err := io.CopyBuffer(io.Discard, onlyReader{in}, buf); err != nil {
			return fmt.Errorf("read %s: %w", p.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("read %s: %w", p.Name, err)
	}
	res.Bytes += h.n
	sum := hex.EncodeToString(h.h.Sum(nil))
	if h.n != p.Bytes {
		problem(SizeDiffer, p.Name, "%d bytes, %s says %d", h.n, ManifestName, p.Bytes)
	}
	if sum != p.SHA256 {
		problem(Changed, p.Name, "SHA-256 %s, %s says %s", sum, ManifestName, p.SHA256)
	}
	if fe.msg != "" {
		problem(Unreadable, p.Name, "%s", fe.msg)
		return nil
	}
	res.Rows += rows
	if rows != p.Rows {
		problem(RowsDiffer, p.Name, "%d rows, %s says %d", rows, ManifestName, p.Rows)
	}
	return nil
}

// hashing is the SHA-256 and size of what went through it.
type hashing struct {
	h hash.Hash
	n int64
}

// teeReader hashes and keeps the tail of every byte read through it.
type teeReader struct {
	r io.Reader
	h *hashing
	t *tail
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.h.h.Write(p[:n])
		t.h.n += int64(n)
		t.t.Write(p[:n])
	}
	return n, err
}

// onlyReader hides a reader's WriterTo, so that io.CopyBuffer uses the
// buffer it is given.
type onlyReader struct{ io.Reader }

// countCSV counts the records of a CSV part, its header excluded, with a
// parser that knows quoted fields (a description may hold newlines).
func countCSV(_ context.Context, r io.Reader, _ func() (io.ReadCloser, error), _ func() int64, _ *tail, _ []byte) (int64, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, copyBuffer))
	cr.ReuseRecord = true
	var records int64
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, formatError{"not valid CSV: " + pe.Error()}
		}
		if err != nil {
			return 0, err
		}
		records++
	}
	if records == 0 {
		return 0, formatError{"no CSV header"}
	}
	return records - 1, nil
}
