package cognitoemu

import (
	"bytes"
	"io"
	"net/http"
)

// Transport is an http.RoundTripper that hands each request straight to the
// server's handler, without a socket. The SDK's whole middleware stack (signing,
// retries, JSON 1.1 serialisation) still runs, and so does the handler: only
// the loopback TCP and net/http's connection handling are left out, so that a
// benchmark measures the exporter rather than the kernel.
func (s *Server) Transport() http.RoundTripper { return direct{s} }

type direct struct{ h http.Handler }

func (d direct) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	w := &recorder{header: make(http.Header, 4), status: http.StatusOK}
	defer func() {
		// The handler aborts (a reset it cannot perform without a
		// connection): the client sees a dropped connection.
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			resp, err = nil, io.ErrUnexpectedEOF
		}
	}()
	d.h.ServeHTTP(w, req)
	req.Body.Close()
	return &http.Response{
		Status: http.StatusText(w.status), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, ContentLength: int64(w.body.Len()),
		Body: io.NopCloser(&w.body), Request: req,
	}, nil
}

// recorder is the response side of one in-process request.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
