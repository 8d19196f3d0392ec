package sink

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// csvEncoder writes RFC 4180 CSV with a header and RFC 3339 UTC timestamps.
// Absent values are empty fields: CSV has no NULL.
type csvEncoder struct {
	w      *csv.Writer
	record []string
}

func newCSVEncoder(w io.Writer) (*csvEncoder, error) {
	e := &csvEncoder{w: csv.NewWriter(w), record: make([]string, len(Columns))}
	e.w.UseCRLF = true // RFC 4180 line breaks
	if err := e.w.Write(Columns); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *csvEncoder) Encode(r *Row) error {
	rec := e.record
	rec[0] = r.UserPoolID
	rec[1] = r.Username
	rec[2] = r.UserSub
	rec[3] = r.UserStatus
	rec[4] = strconv.FormatBool(r.UserEnabled)
	rec[5] = csvTime(r.UserCreateDate)
	rec[6] = csvTime(r.UserLastModifiedDate)
	rec[7] = r.GroupName
	rec[8] = deref(r.GroupDescription)
	rec[9] = deref(r.GroupRoleArn)
	rec[10] = ""
	if r.GroupPrecedence != nil {
		rec[10] = strconv.FormatInt(int64(*r.GroupPrecedence), 10)
	}
	rec[11] = csvTime(r.GroupCreationDate)
	rec[12] = csvTime(r.GroupLastModifiedDate)
	rec[13] = csvTime(r.ExportedAt)
	return e.w.Write(rec)
}

// Close flushes buffered records; the underlying writer stays open.
func (e *csvEncoder) Close() error {
	e.w.Flush()
	return e.w.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
