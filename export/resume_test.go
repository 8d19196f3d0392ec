package export_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/internal/duckdb"
	"github.com/cognito-export/cognito-export/internal/exportcheck"
	"github.com/cognito-export/cognito-export/ratelimit"
	"github.com/cognito-export/cognito-export/sink/localdest"
)

var errStop = errors.New("test stop")

// runUntil runs an export and stops it after d; it reports whether the
// export completed before the stop.
func runUntil(t *testing.T, cfg export.Config, d time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(d, func() { cancel(errStop) })
	defer timer.Stop()
	return runStopped(t, ctx, cfg)
}

// runStopped runs the export until it completes or ctx is stopped with
// errStop, and says whether it completed; a stopped run must leave no
// manifest.
func runStopped(t *testing.T, ctx context.Context, cfg export.Config) bool {
	t.Helper()
	sum, err := export.Run(ctx, cfg)
	if err == nil {
		return sum.Complete
	}
	if !errors.Is(err, errStop) {
		t.Fatalf("stopped run failed with %v, want the stop", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Output, export.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an interrupted run left a manifest")
	}
	return false
}

// interruptedExport starts a paced export with a checkpoint after every
// page and stops it after d, leaving a checkpoint to resume from.
func interruptedExport(t *testing.T, env *emuEnv, rps float64, d time.Duration, tune func(*export.Config)) export.Config {
	t.Helper()
	cfg := exportConfig(env, t.TempDir())
	cfg.CheckpointInterval = time.Millisecond
	cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserResourceRead: rps}, 1)
	if tune != nil {
		tune(&cfg)
	}
	if runUntilCheckpointed(t, cfg, d) {
		t.Fatal("finished before the stop")
	}
	return cfg
}

// runUntilCheckpointed stops the run d after it has saved its first
// checkpoint: a stop timed from the start alone can land before the run
// has made a call (on a loaded machine), leaving nothing to resume from.
func runUntilCheckpointed(t *testing.T, cfg export.Config, d time.Duration) bool {
	t.Helper()
	var watcher sync.WaitGroup
	defer watcher.Wait()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	watcher.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, err := os.Stat(filepath.Join(cfg.Output, export.CheckpointName)); err == nil {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
			cancel(errStop)
		}
	})
	return runStopped(t, ctx, cfg)
}

func TestStopAndResumeExportsEveryRowOnce(t *testing.T) {
	for _, format := range []string{"csv", "parquet"} {
		t.Run(format, func(t *testing.T) {
			env := startEmulator(t, cognitoemu.PoolSpec{Users: 3000, Groups: 70, Seed: 9}, cognitoemu.Options{DeletedShare: 0.01})
			out := t.TempDir()
			cfg := exportConfig(env, out)
			cfg.Format = format
			cfg.PartRows = 500
			cfg.CheckpointInterval = 50 * time.Millisecond
			cfg.Limits = ratelimit.NewSet(map[ratelimit.Category]float64{ratelimit.UserResourceRead: 4000, ratelimit.UserList: 200}, 1)
			rng := rand.New(rand.NewPCG(1, 2))
			stops := 0
			for !runUntil(t, cfg, time.Duration(50+rng.IntN(250))*time.Millisecond) {
				stops++
				if stops > 200 {
					t.Fatal("export never completed")
				}
			}
			if stops < 2 {
				t.Fatalf("only %d stops: the test did not exercise resume", stops)
			}
			if format == "csv" {
				_, got, _ := readExport(t, out)
				compareRows(t, got, groundTruth(env, true))
			} else {
				exportcheck.Compare(t, fmt.Sprintf("read_parquet(%s, hive_partitioning=false)", duckdb.Quote(out+"/part-*.parquet")),
					exportcheck.WriteTruth(t, env.pool, env.srv, true))
			}
			assertNoLeftovers(t, out)
		})
	}
}

// assertNoLeftovers checks that only the parts and the manifest remain.
func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); !strings.HasPrefix(n, "part-") && n != export.ManifestName {
			t.Errorf("left over in a complete export: %s", n)
		}
	}
}

func TestResumeWithOtherParametersIsRefused(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 5, Seed: 1}, cognitoemu.Options{})
	cfg := interruptedExport(t, env, 2000, 300*time.Millisecond, nil)
	out := cfg.Output
	other := cfg
	other.Format = "parquet"
	_, err := export.Run(context.Background(), other)
	if err == nil || fault.KindOf(err) != fault.Usage || !strings.Contains(err.Error(), `format is "csv" in the checkpoint but "parquet" now`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, export.CheckpointName)); err != nil {
		t.Fatalf("the refused resume touched the checkpoint: %v", err)
	}
	// --fresh starts over.
	other.Fresh = true
	other.Limits = ratelimit.Unlimited()
	if _, err := export.Run(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	assertNoLeftovers(t, out)
}

func TestTornCheckpointIsReportedNotIgnored(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 5, Seed: 1}, cognitoemu.Options{})
	for name, damage := range map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)/2] },
		"invalid json": func([]byte) []byte { return []byte("{not json") },
		"edited":       func(b []byte) []byte { return []byte(strings.Replace(string(b), `"rows": `, `"rows": 1`, 1)) },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := interruptedExport(t, env, 2000, 300*time.Millisecond, nil)
			out := cfg.Output
			path := filepath.Join(out, export.CheckpointName)
			data, _ := os.ReadFile(path)
			os.WriteFile(path, damage(data), 0o644)
			before, _ := os.ReadDir(out)
			_, err := export.Run(context.Background(), cfg)
			if !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), "--fresh") {
				t.Fatalf("err = %v, want a corrupt checkpoint error", err)
			}
			after, _ := os.ReadDir(out)
			if len(after) != len(before) {
				t.Fatalf("files changed after a corrupt checkpoint: %d -> %d", len(before), len(after))
			}
		})
	}
}

// TestTornDoneFileIsReportedNamingIt resumes, with the saved token
// rejected, from a checkpoint whose done file lost its last bytes: the
// listing that starts again reads the done files, and the run refuses as
// for a torn checkpoint, saying which file (it said only "a done file of
// N bytes").
func TestTornDoneFileIsReportedNamingIt(t *testing.T) {
	spec := cognitoemu.PoolSpec{Users: 3000, Groups: 20, Seed: 4}
	env := startEmulator(t, spec, cognitoemu.Options{})
	cfg := interruptedExport(t, env, 3000, 400*time.Millisecond, func(c *export.Config) { c.PartRows = 300 })
	done, _ := filepath.Glob(filepath.Join(cfg.Output, "_done-*.bin"))
	if len(done) == 0 {
		t.Fatal("the stopped run left no done file")
	}
	data, _ := os.ReadFile(done[0])
	os.WriteFile(done[0], data[:len(data)-3], 0o644)
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, cognitoemu.NewPool(spec)))
	defer hs.Close()
	cfg.Client = clientConfig(hs.URL)
	cfg.Limits = ratelimit.Unlimited()
	_, err := export.Run(context.Background(), cfg)
	if !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), filepath.Base(done[0])) || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("err = %v, want a corrupt checkpoint error naming %s", err, filepath.Base(done[0]))
	}
}

func TestRejectedWatermarkRestartsListingWithoutDuplicates(t *testing.T) {
	spec := cognitoemu.PoolSpec{Users: 3000, Groups: 20, Seed: 4}
	env := startEmulator(t, spec, cognitoemu.Options{})
	cfg := interruptedExport(t, env, 3000, 400*time.Millisecond, func(c *export.Config) { c.PartRows = 300 })
	resumeWithRejectedTokens(t, env, spec, cfg)
}

// resumeWithRejectedTokens resumes an interrupted export against a new
// emulator process, which signs tokens with another key: the saved tokens
// are rejected, as expired Cognito tokens would be. The resume must list
// again and still export every row once.
func resumeWithRejectedTokens(t *testing.T, env *emuEnv, spec cognitoemu.PoolSpec, cfg export.Config) {
	t.Helper()
	hs := httptest.NewServer(cognitoemu.NewServer(cognitoemu.Options{}, cognitoemu.NewPool(spec)))
	defer hs.Close()
	cfg.Client = clientConfig(hs.URL)
	cfg.Limits = ratelimit.Unlimited()
	sum, err := export.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Resumed || !sum.RestartedList {
		t.Fatalf("summary %+v: want a resume that listed again", sum)
	}
	_, got, _ := readExport(t, cfg.Output)
	compareRows(t, got, groundTruth(env, true))
	assertNoLeftovers(t, cfg.Output)
}

// TestCheckpointWithoutWatermarkIsNeverListedAgain: a checkpoint with
// committed pages and no watermark must not be read as "from the start",
// which would export everything twice. (The last page's commit now marks the
// listing done; this guards the reading side.)
func TestCheckpointWithoutWatermarkIsNeverListedAgain(t *testing.T) {
	env := startEmulator(t, cognitoemu.PoolSpec{Users: 2000, Groups: 5, Seed: 6}, cognitoemu.Options{})
	cfg := interruptedExport(t, env, 2000, 300*time.Millisecond, nil)
	out := cfg.Output
	dir, err := localdest.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	store := checkpoint.NewStore(dir, export.CheckpointName, "test")
	st, err := store.Load(context.Background())
	if err != nil || st.Pages == 0 {
		t.Fatalf("checkpoint %+v, %v", st, err)
	}
	st.Watermark = ""
	if err := store.Save(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	calls := env.srv.Calls("ListUsers")
	_, err = export.Run(context.Background(), cfg)
	if !errors.Is(err, checkpoint.ErrCorrupt) || env.srv.Calls("ListUsers") != calls {
		t.Fatalf("err = %v after %d ListUsers calls; want a corrupt checkpoint and no listing", err, env.srv.Calls("ListUsers")-calls)
	}
}
