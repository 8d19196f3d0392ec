package sink

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Part is a file being written; it becomes part of the output only on
// Commit. Every call takes the context it runs under: a part never keeps the
// context it was created with, so a write or commit is cancelled only by its
// own caller.
type Part interface {
	Write(ctx context.Context, p []byte) error
	Commit(ctx context.Context) error
	// Abort discards the part. It must work even when ctx is cancelled (an
	// S3 part must still abort its multipart upload), so implementations
	// detach from ctx's cancellation and bound the call with a timeout.
	Abort(ctx context.Context)
}

// Destination is where parts go.
type Destination interface {
	Create(ctx context.Context, name string) (Part, error)
}

// encoderOf turns rows into a file format; Close writes whatever the
// format needs at the end (a footer) without closing the underlying writer.
type encoderOf[R any] interface {
	Encode(*R) error
	Close() error
}

type encoder = encoderOf[Row]

// Formats lists the accepted --format values.
var Formats = []string{"parquet", "csv"}

// PartInfo describes one committed part.
type PartInfo struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// WriterOptions sets the format and when a part rolls over.
type WriterOptions struct {
	Format      string
	Compression string // parquet only: one of Compressions; "" means snappy
	PartRows    int64  // roll after this many rows; 0 means no row limit
	PartBytes   int64  // roll once a part reaches this size; 0 means no size limit
	// Name names part number seq; the export owns its file names.
	Name func(seq int) string
	// Attributes are the identity attribute columns after the fixed ones;
	// every row's Attrs has one value per column.
	Attributes []AttrColumn
	// CSVRaw writes CSV cells as they are. By default a text cell that a
	// spreadsheet would run as a formula is neutralised (see Neutralize).
	CSVRaw    bool
	FirstPart int // number of the first part written: a resume continues the numbering
}

// PartWriter streams rows of type R into numbered parts. The caller decides
// where a part ends (Full, then Flush), so that parts end where a
// checkpoint can name them. It is used by one goroutine.
type PartWriter[R any] struct {
	dest      Destination
	opts      WriterOptions
	newEnc    func(io.Writer) (encoderOf[R], error)
	committed []PartInfo
	cur       *openPart[R]
}

// Writer writes membership rows.
type Writer = PartWriter[Row]

type openPart[R any] struct {
	name  string
	part  Part
	out   *partWriter
	buf   *bufio.Writer
	count *countingHash
	enc   encoderOf[R]
	rows  int64
}

// NewWriter checks the options; no part is created until the first row.
func NewWriter(dest Destination, opts WriterOptions) (*Writer, error) {
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	return &Writer{dest: dest, opts: opts, newEnc: func(w io.Writer) (encoder, error) {
		if opts.Format == "parquet" {
			return newParquetEncoder(w, opts.Compression, opts.Attributes)
		}
		return newCSVEncoder(w, opts.Attributes, opts.CSVRaw)
	}}, nil
}

func checkOptions(opts WriterOptions) error {
	if _, err := extension(opts.Format); err != nil {
		return err
	}
	if opts.Name == nil {
		return errors.New("writer options: no Name for the parts")
	}
	if opts.Format == "parquet" {
		if _, err := parquetCodec(opts.Compression); err != nil {
			return err
		}
	}
	return nil
}

func extension(format string) (string, error) {
	switch format {
	case "csv":
		return "csv", nil
	case "parquet":
		return "parquet", nil
	}
	return "", fmt.Errorf("unknown format %q: use one of %v", format, Formats)
}

// Write appends rows to the current part, starting one if needed.
func (w *PartWriter[R]) Write(ctx context.Context, rows []R) error {
	for i := range rows {
		if w.cur == nil {
			if err := w.open(ctx); err != nil {
				return err
			}
		}
		w.cur.out.ctx = ctx
		if err := w.cur.enc.Encode(&rows[i]); err != nil {
			return fmt.Errorf("encode row into %s: %w", w.cur.name, err)
		}
		w.cur.rows++
	}
	return nil
}

// Full reports whether the current part has reached a roll-over limit.
// Parquet bytes reach the part a row group at a time, so a Parquet part may
// pass PartBytes by up to one row group.
func (w *PartWriter[R]) Full() bool {
	c := w.cur
	if c == nil {
		return false
	}
	if w.opts.PartRows > 0 && c.rows >= w.opts.PartRows {
		return true
	}
	return w.opts.PartBytes > 0 && c.count.n+int64(c.buf.Buffered()) >= w.opts.PartBytes
}

func (w *PartWriter[R]) open(ctx context.Context) error {
	name := w.opts.Name(w.opts.FirstPart + len(w.committed))
	part, err := w.dest.Create(ctx, name)
	if err != nil {
		return err
	}
	out := &partWriter{part: part, ctx: ctx}
	count := &countingHash{w: out, h: sha256.New()}
	buf := bufio.NewWriterSize(count, 256<<10)
	enc, err := w.newEnc(buf)
	if err != nil {
		part.Abort(ctx)
		return fmt.Errorf("start %s: %w", name, err)
	}
	w.cur = &openPart[R]{name: name, part: part, out: out, buf: buf, count: count, enc: enc}
	return nil
}

// Flush closes and commits the current part, if any; the next row starts a
// new one. Every error here is returned: a part whose footer or flush failed
// is never reported as written.
func (w *PartWriter[R]) Flush(ctx context.Context) error {
	c := w.cur
	if c == nil {
		return nil
	}
	w.cur = nil
	// What the footer and the flush write (a full chunk is uploaded on the
	// way) runs under the flush's context.
	c.out.ctx = ctx
	if err := c.enc.Close(); err != nil {
		c.part.Abort(ctx)
		return fmt.Errorf("finish %s: %w", c.name, err)
	}
	if err := c.buf.Flush(); err != nil {
		c.part.Abort(ctx)
		return fmt.Errorf("write %s: %w", c.name, err)
	}
	if err := c.part.Commit(ctx); err != nil {
		return err
	}
	w.committed = append(w.committed, PartInfo{
		Name: c.name, Rows: c.rows, Bytes: c.count.n, SHA256: hex.EncodeToString(c.count.h.Sum(nil)),
	})
	return nil
}

// Abort discards the part being written, even when ctx is cancelled.
func (w *PartWriter[R]) Abort(ctx context.Context) {
	if w.cur != nil {
		w.cur.part.Abort(ctx)
		w.cur = nil
	}
}

// Parts are the parts this writer committed so far.
func (w *PartWriter[R]) Parts() []PartInfo { return w.committed }

// partWriter is the io.Writer under the encoders: it hands each write to
// the part with the context of the Writer call under way, which sets ctx
// at its start.
type partWriter struct {
	part Part
	ctx  context.Context
}

func (p *partWriter) Write(b []byte) (int, error) {
	if err := p.part.Write(p.ctx, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// countingHash counts and hashes what passes through to the part.
type countingHash struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingHash) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.h.Write(b[:n])
	c.n += int64(n)
	return n, err
}
