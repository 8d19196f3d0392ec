package reader

// SetTailSize shrinks the tail kept of a part, so that a test reaches the
// second read of a Parquet footer without a large file.
func SetTailSize(n int) (restore func()) {
	old := tailSize
	tailSize = n
	return func() { tailSize = old }
}
