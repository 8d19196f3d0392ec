package reader_test

import (
	"context"
	"testing"

	"github.com/cognito-export/cognito-export/internal/fuzzcheck"
	"github.com/cognito-export/cognito-export/reader"
)

// TestFooterListSizeIsHeldToItsBytes decodes footers of a few bytes whose
// schema list declares -1 and 2^31-1 elements. thrift v0.14.2 checks no
// list size: the generated decoder's make panicked on the first and
// allocated 16 GB for the second.
func TestFooterListSizeIsHeldToItsBytes(t *testing.T) {
	for _, size := range [][]byte{{0xff, 0xff, 0xff, 0xff, 0x0f}, {0xff, 0xff, 0xff, 0xff, 0x07}, {0x80, 0x80, 0x04}} {
		// version = 1 (i32), then schema (field 2): a list of structs of
		// the varint size, then an empty struct and the end.
		footer := append([]byte{0x15, 0x02, 0x19, 0xfc}, size...)
		footer = append(footer, 0x00, 0x00)
		var err error
		fuzzcheck.Default.Check(t, len(footer), func() { _, err = reader.DecodeFooter(context.Background(), footer) })
		if err == nil {
			t.Fatalf("a footer of %d bytes declaring a list of %x decoded", len(footer), size)
		}
	}
}
