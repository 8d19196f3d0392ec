package reader

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/xitongsys/parquet-go/parquet"
)

// DecodeFooter decodes a Parquet footer (FileMetaData, Thrift's compact
// protocol), the bytes between a part's data and its closing length and
// PAR1. Verify reads num_rows from it; rowscan reads the whole part by it.
func DecodeFooter(ctx context.Context, b []byte) (*parquet.FileMetaData, error) {
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := boundedProtocol{TCompactProtocol: thrift.NewTCompactProtocolConf(buf, &thrift.TConfiguration{}), buf: buf}
	meta := parquet.NewFileMetaData()
	if err := meta.Read(ctx, p); err != nil {
		return nil, err
	}
	if len(meta.Schema) == 0 {
		return nil, errors.New("no schema")
	}
	return meta, nil
}

// boundedProtocol is the compact protocol with every container's declared
// size held to the bytes left to read, each element taking at least one.
// thrift v0.14.2 checks no list size at all (THRIFT-5569: it checks a
// constant), so a footer that declares a list of -1 schema elements
// panicked in the generated decoder's make, one of 2^31 allocated 16 GB;
// its check of the other sizes allows 100 MB whatever the input.
type boundedProtocol struct {
	*thrift.TCompactProtocol
	buf *thrift.TMemoryBuffer
}

func (p boundedProtocol) fits(n, each int) error {
	if n < 0 || uint64(n) > p.buf.RemainingBytes()/uint64(each) {
		return thrift.NewTProtocolExceptionWithType(thrift.INVALID_DATA,
			fmt.Errorf("a container of %d elements in %d bytes", n, p.buf.RemainingBytes()))
	}
	return nil
}

func (p boundedProtocol) ReadListBegin(ctx context.Context) (thrift.TType, int, error) {
	t, n, err := p.TCompactProtocol.ReadListBegin(ctx)
	if err == nil {
		err = p.fits(n, 1)
	}
	return t, n, err
}

func (p boundedProtocol) ReadSetBegin(ctx context.Context) (thrift.TType, int, error) {
	t, n, err := p.TCompactProtocol.ReadSetBegin(ctx)
	if err == nil {
		err = p.fits(n, 1)
	}
	return t, n, err
}

func (p boundedProtocol) ReadMapBegin(ctx context.Context) (thrift.TType, thrift.TType, int, error) {
	k, v, n, err := p.TCompactProtocol.ReadMapBegin(ctx)
	if err == nil {
		err = p.fits(n, 2)
	}
	return k, v, n, err
}

// Skip passes over a value through p, so that a container skipped is held
// to the same bound.
func (p boundedProtocol) Skip(ctx context.Context, typ thrift.TType) error {
	return thrift.SkipDefaultDepth(ctx, p, typ)
}
