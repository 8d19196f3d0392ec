package rowscan

import (
	"encoding/binary"
	"errors"
	"math"
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

// int32 reads an i32: a varint of more than 32 bits is not one (Thrift's
// own reader would drop its high bits, and read another number).
func (c *compact) int32() int32 {
	u := c.uvarint()
	if u > math.MaxUint32 {
		c.err = errHeader
		return 0
	}
	return int32(u>>1) ^ -int32(u&1) // zigzag
}

// field reads a field header; ok is false at the struct's end. A header
// of type 0 ends the struct whatever its delta, as Thrift's own reader
// has it.
func (c *compact) field(last int16) (id int16, typ byte, ok bool) {
	h := c.byte()
	typ = h & 0x0f
	if c.err != nil || typ == 0 {
		return 0, 0, false
	}
	if delta := int16(h >> 4); delta != 0 {
		return last + delta, typ, true
	}
	return int16(c.int()), typ, true
}

// left reports whether n more bytes are there: a length the header
// declares is held to them before it moves the offset or runs a loop.
func (c *compact) left(n uint64) bool {
	if c.err == nil && n > uint64(len(c.b)-c.off) {
		c.err = errHeader
	}
	return c.err == nil
}

// skip passes over a field's value of the given compact type.
func (c *compact) skip(typ byte, depth int) {
	if depth > 32 {
		c.err = errHeader
		return
	}
	switch typ {
	case 1, 2: // a field's boolean lives in its type
	case 3:
		c.byte()
	case 4, 5, 6:
		c.uvarint()
	case 7:
		c.off += 8
	case 8:
		if n := c.uvarint(); c.left(n) {
			c.off += int(n)
		}
	case 9, 10:
		h := c.byte()
		n := uint64(h >> 4)
		if n == 15 {
			n = c.uvarint()
		}
		// Every element takes a byte at least: a longer list is not there.
		if c.left(n) {
			for i := uint64(0); i < n && c.err == nil; i++ {
				c.element(h&0x0f, depth+1)
			}
		}
	case 11:
		n := c.uvarint()
		if n > 0 && c.left(2*min(n, 1<<62)) {
			kv := c.byte()
			for i := uint64(0); i < n && c.err == nil; i++ {
				c.element(kv>>4, depth+1)
				c.element(kv&0x0f, depth+1)
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

// element passes over an element of a list, a set or a map: a boolean
// there takes a byte of its own.
func (c *compact) element(typ byte, depth int) {
	if typ == 1 || typ == 2 {
		c.byte()
		return
	}
	c.skip(typ, depth)
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
			h.typ = c.int32()
		case id == 2 && typ == 5:
			h.uncompressedSize = c.int32()
		case id == 3 && typ == 5:
			h.compressedSize = c.int32()
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
					h.numValues = c.int32()
				case fid == 2 && ft == 5:
					h.encoding = c.int32()
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
