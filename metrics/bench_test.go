package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// benchPool is a pool with the counters of a per-user export under way.
func benchPool() *batch.PoolRun {
	p := &export.Progress{}
	pr := &batch.PoolRun{Config: export.Config{UserPoolID: "eu-west-1_Bench"}, Key: batch.QuotaKey{Region: "eu-west-1"}, Progress: p}
	return pr
}

// BenchmarkPush is one push of a pool's metrics to a gateway on loopback
// that accepts it: what --push-gateway costs every --progress-interval.
func BenchmarkPush(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	limits := map[batch.QuotaKey]*ratelimit.Set{{Region: "eu-west-1"}: ratelimit.NewSet(nil, 1)}
	p, err := NewPusher(srv.URL, limits, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	pr := benchPool()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Push(context.Background(), pr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEMFLine is one pool's EMF line: what --metrics-format emf costs
// once per pool.
func BenchmarkEMFLine(b *testing.B) {
	e := NewEMF(io.Discard)
	pr := benchPool()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Pool(pr, "run"); err != nil {
			b.Fatal(err)
		}
	}
}
