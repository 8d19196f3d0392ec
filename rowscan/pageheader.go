package rowscan

import (
	"encoding/binary"
	"errors"
)

// pageHeader is what a scan needs of a Parquet page header. It is decoded
// by hand from Thrift's compact protocol: the generated decoder allocates
// every statistics value of every page (min and max usernames), which was
// half of a diff's garbage.
type pageHeader struct {
	typ              int32 // 0 data page, 2 dictionary page
	uncompressedSize int32
	compressedSize   int32
	numValues        int32
	encoding         int32
	hasData          bool // a data page header (v1) was there
	hasDict          bool
}

const (
	pageData       = 0
	pageDictionary = 2
)

var errHeader = errors.New("page header cut short or malformed")

// compact reads Thrift's compact protocol from a byte slice.
type compact struct {
	b   []byte
	off int
	err error
}

func (c *compact) byte() byte {
	if c.off >= len(c.b) {
		c.err = errHeader
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *compact) uvarint() uint64 {
	v, n := binary.Uvarint(c.b[min(c.off, len(c.b)):])
	if n <= 0 {
		c.err = errHeader
		return 0
	}
	c.off += n
	return v
}

func (c *compact) int() int64 {
	u := c.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zigzag
}

// field reads a field header; ok is false at the struct's end.
func (c *compact) field(last int16) (id int16, typ byte, ok bool) {
	h := c.byte()
	if c.err != nil || h == 0 {
		return 0, 0, false
	}
	typ = h & 0x0f
	if delta := int16(h >> 4); delta != 0 {
		return last + delta, typ, true
	}
	return int16(c.int()), typ, true
}

// skip passes over a value of the given compact type.
func (c *compact) skip(typ byte, depth int) {
	if depth > 32 {
		c.err = errHeader
		return
	}
	switch typ {
	case 1, 2: // booleans live in the type
	case 3:
		c.byte()
	case 4, 5, 6:
		c.uvarint()
	case 7:
		c.off += 8
	case 8:
		c.off += int(c.uvarint())
	case 9, 10:
		h := c.byte()
		n := int(h >> 4)
		if n == 15 {
			n = int(c.uvarint())
		}
		for i := 0; i < n && c.err == nil; i++ {
			c.skip(h&0x0f, depth+1)
		}
	case 11:
		n := int(c.uvarint())
		if n > 0 {
			kv := c.byte()
			for i := 0; i < n && c.err == nil; i++ {
				c.skip(kv>>4, depth+1)
				c.skip(kv&0x0f, depth+1)
			}
		}
	case 12:
		var last int16
		for c.err == nil {
			id, t, ok := c.field(last)
			if !ok {
				break
			}
			c.skip(t, depth+1)
			last = id
		}
	default:
		c.err = errHeader
	}
	if c.off > len(c.b) {
		c.err = errHeader
	}
}

// readPageHeader decodes the header at the start of b and returns its
// length in bytes.
func readPageHeader(b []byte) (pageHeader, int, error) {
	c := &compact{b: b}
	var h pageHeader
	var last int16
	for c.err == nil {
		id, typ, ok := c.field(last)
		if !ok {
			break
		}
		switch {
		case id == 1 && typ == 5:
			h.typ = int32(c.int())
		case id == 2 && typ == 5:
			h.uncompressedSize = int32(c.int())
		case id == 3 && typ == 5:
			h.compressedSize = int32(c.int())
		case (id == 5 || id == 7) && typ == 12:
			// The data page and dictionary page headers both start with
			// num_values (1) and encoding (2).
			if id == 5 {
				h.hasData = true
			} else {
				h.hasDict = true
			}
			var l int16
			for c.err == nil {
				fid, ft, ok := c.field(l)
				if !ok {
					break
				}
				switch {
				case fid == 1 && ft == 5:
					h.numValues = int32(c.int())
				case fid == 2 && ft == 5:
					h.encoding = int32(c.int())
				default:
					c.skip(ft, 1)
				}
				l = fid
			}
		default:
			c.skip(typ, 0)
		}
		last = id
	}
	if c.err != nil {
		return h, 0, c.err
	}
	return h, c.off, nil
}
