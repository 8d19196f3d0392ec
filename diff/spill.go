package diff

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

// An export is larger than memory: each side's rows are hash-partitioned
// by user into spill files, and one partition of both sides is compared at
// a time. A user's rows all land in the same partition whatever the
// export's strategy, so a partition holds whole users.

// spillRecord is one row as spilled: the user's key (username NUL sub),
// and what a diff compares.
type spillRecord struct {
	key, status, enabled, group, exportedAt string
	attrs                                   []string
}

// spiller writes one side's partitions. The few distinct values of
// status, enabled, group and exported_at are spilled as numbers into its
// dictionary, which stays in memory: a third less to write and read back.
type spiller struct {
	files []*os.File
	bufs  []*bufio.Writer
	rec   []byte
	ids   map[string]uint32
	dict  []string
	last  [4]struct {
		s   string
		id  uint32
		set bool
	}
}

// intern is v's number in the dictionary; field f caches its last value,
// as consecutive rows mostly repeat it.
func (s *spiller) intern(f int, v string) uint32 {
	if l := &s.last[f]; l.set && l.s == v {
		return l.id
	}
	id, ok := s.ids[v]
	if !ok {
		v = strings.Clone(v) // the scan reuses its strings
		id = uint32(len(s.dict))
		s.ids[v] = id
		s.dict = append(s.dict, v)
	}
	s.last[f].s, s.last[f].id, s.last[f].set = v, id, true
	return id
}

func newSpiller(dir, side string, partitions int) (*spiller, error) {
	s := &spiller{ids: map[string]uint32{}}
	for i := range partitions {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%04d.spill", side, i)))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("spill: %w", err)
		}
		s.files = append(s.files, f)
		s.bufs = append(s.bufs, bufio.NewWriterSize(f, 32<<10))
	}
	return s, nil
}

// add spills one row into its user's partition.
func (s *spiller) add(username, sub string, r *spillRecord) error {
	p := int(partitionHash(username) % uint64(len(s.files)))
	b := s.rec[:0]
	b = binary.AppendUvarint(b, uint64(len(username)+1+len(sub)))
	b = append(b, username...)
	b = append(b, 0)
	b = append(b, sub...)
	for f, v := range [...]string{r.status, r.enabled, r.group, r.exportedAt} {
		b = binary.AppendUvarint(b, uint64(s.intern(f, v)))
	}
	for _, a := range r.attrs {
		b = appendString(b, a)
	}
	s.rec = b
	_, err := s.bufs[p].Write(b)
	return err
}

// partitionHash is FNV-1a: fixed, so that the same exports give the same
// partitions, hence the same change rows in the same order, on every run.
func partitionHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// finish flushes and closes every partition file.
func (s *spiller) finish() error {
	var errs []error
	for i, b := range s.bufs {
		errs = append(errs, b.Flush(), s.files[i].Close())
	}
	s.files, s.bufs = nil, nil
	return errors.Join(errs...)
}

func (s *spiller) close() {
	for _, f := range s.files {
		f.Close()
	}
}

// readPartition reads a spill file back into buf (grown as needed, and
// returned), calling fn for each record. The strings point into buf.
func readPartition(path string, buf []byte, dict []string, attrs int, fn func(*spillRecord)) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, fmt.Errorf("read spill: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return buf, fmt.Errorf("read spill: %w", err)
	}
	if int64(cap(buf)) < st.Size() {
		buf = make([]byte, st.Size())
	}
	buf = buf[:st.Size()]
	if _, err := io.ReadFull(f, buf); err != nil {
		return buf, fmt.Errorf("read spill: %w", err)
	}
	data := buf
	rec := spillRecord{attrs: make([]string, attrs)}
	next := func() (string, bool) {
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return "", false
		}
		s := unsafe.String(unsafe.SliceData(data[k:]), int(n))
		data = data[k+int(n):]
		return s, true
	}
	for len(data) > 0 {
		ok := true
		var f bool
		rec.key, f = next()
		ok = ok && f
		for _, dst := range [...]*string{&rec.status, &rec.enabled, &rec.group, &rec.exportedAt} {
			id, k := binary.Uvarint(data)
			if k <= 0 || id >= uint64(len(dict)) {
				ok = false
				break
			}
			*dst, data = dict[id], data[k:]
		}
		for i := range rec.attrs {
			rec.attrs[i], f = next()
			ok = ok && f
		}
		if !ok {
			return buf, fmt.Errorf("spill %s is cut short", filepath.Base(path))
		}
		fn(&rec)
	}
	return buf, nil
}
