package rowscan

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/xitongsys/parquet-go/parquet"
)

// A page is decompressed into a buffer of the size its header declares
// (uncompressed_page_size), and no further: a page that decompresses to
// more, or less, is an error. The declared sizes are the file's word, so
// they are held to what the chunk's bytes justify: a column chunk
// decompresses to at most maxExpansion times its compressed size, and
// never to more than maxChunkData. parquet-go's own decompressors trusted
// the page (a gzip page that was not gzip crashed the process; a zstd
// frame may declare 64 GB in a few bytes), so they are not used.
const (
	// maxExpansion: the most compressible chunk of an export measured
	// decompresses to 166 times its size (zstd, a row group of 130,000
	// memberships of 13 users in the same 10,000 groups; gzip 111, snappy
	// 19; a page alone reaches 461).
	maxExpansion = 1024
	// maxChunkData bounds one decompressed column chunk: a row group of
	// an export holds at most 131,072 rows, tens of megabytes a column.
	maxChunkData = 256 << 20
)

// chunkBudget is how many decompressed bytes a chunk of length bytes may
// yield.
func chunkBudget(length int64) int64 { return min(maxExpansion*length+64<<10, maxChunkData) }

// zstdDecoder decodes every zstd page of the process; DecodeAll is safe for
// concurrent use. It writes only into the buffer it is given (its
// capacity is the page's declared size) and refuses a larger frame.
var zstdDecoder = func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderMaxMemory(maxChunkData),
		zstd.WithDecoderMaxWindow(maxChunkData))
	if err != nil {
		panic(err) // the options are constants
	}
	return d
}()

var errPageSize = errors.New("page does not decompress to the size its header declares")

// decompressor decompresses the pages of one column chunk.
type decompressor struct {
	codec  parquet.CompressionCodec
	budget int64        // bytes the chunk may still decompress to
	gz     *gzip.Reader // reused: a new one costs 40 KB a page
}

// page decompresses body, declared to decompress to size bytes, into
// arena's spare capacity when it fits there, else into a buffer of its
// own. It returns the page's data and the arena, grown by it.
func (d *decompressor) page(body []byte, size int32, arena []byte) (data, rest []byte, err error) {
	if d.codec == parquet.CompressionCodec_UNCOMPRESSED {
		return body, arena, nil
	}
	if size < 0 || int64(size) > d.budget {
		return nil, arena, fmt.Errorf("a page of %d bytes declares %d bytes decompressed, more than its chunk can hold (%d times its size at most)", len(body), size, maxExpansion)
	}
	d.budget -= int64(size)
	n := int(size)
	if cap(arena)-len(arena) < n {
		arena = make([]byte, 0, n)
	}
	out := arena[len(arena) : len(arena)+n]
	switch d.codec {
	case parquet.CompressionCodec_SNAPPY:
		if m, err := snappy.DecodedLen(body); err != nil {
			return nil, arena, err
		} else if m != n {
			return nil, arena, errPageSize
		}
		if _, err := snappy.Decode(out, body); err != nil {
			return nil, arena, err
		}
	case parquet.CompressionCodec_GZIP:
		if d.gz == nil {
			d.gz, err = gzip.NewReader(bytes.NewReader(body))
		} else {
			err = d.gz.Reset(bytes.NewReader(body))
		}
		if err != nil {
			return nil, arena, err
		}
		if _, err := io.ReadFull(d.gz, out); err != nil {
			return nil, arena, fmt.Errorf("%w: %v", errPageSize, err)
		}
		if k, err := d.gz.Read(make([]byte, 1)); k > 0 || err != io.EOF {
			return nil, arena, errPageSize
		}
	case parquet.CompressionCodec_ZSTD:
		got, err := zstdDecoder.DecodeAll(body, out[:0])
		if err != nil {
			return nil, arena, err
		}
		if len(got) != n || n > 0 && &got[0] != &out[0] {
			return nil, arena, errPageSize
		}
	default:
		return nil, arena, fmt.Errorf("%s compression is not an export's", d.codec)
	}
	return out, arena[:len(arena)+n], nil
}
