package memlimit

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// fakeRoot writes files (path under root → content) into a temporary
// directory standing for the file system's root.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const meminfo = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\n"

func noEnv(string) string { return "" }

func TestChoose(t *testing.T) {
	gib := int64(1 << 30)
	for _, tc := range []struct {
		name   string
		files  map[string]string
		env    map[string]string
		limit  int64
		reason string
	}{
		{"cgroup v2 in a container", map[string]string{"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "1073741824\n", "proc/meminfo": meminfo},
			nil, gib * 8 / 10, "80% of the container's 1.0 GiB (/sys/fs/cgroup/memory.max)"},
		{"cgroup v2 in the process's own cgroup on a host", map[string]string{
			"proc/self/cgroup": "0::/system.slice/job.service\n",
			"sys/fs/cgroup/system.slice/job.service/memory.max": "2147483648\n",
			"sys/fs/cgroup/memory.max":                          "max\n", "proc/meminfo": meminfo},
			nil, 2 * gib * 8 / 10, "80% of the container's 2.0 GiB"},
		{"cgroup v2 without a limit falls back to the machine", map[string]string{"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "max\n", "proc/meminfo": meminfo},
			nil, 24000000 << 10 / 4, "25% of the machine's 22.9 GiB (no container limit)"},
		{"cgroup v1", map[string]string{"proc/self/cgroup": "4:memory:/ecs/task\n3:cpu,cpuacct:/ecs/task\n",
			"sys/fs/cgroup/memory/ecs/task/memory.limit_in_bytes": "536870912\n", "proc/meminfo": meminfo},
			nil, 512 << 20 * 8 / 10, "80% of the container's 512 MiB (/sys/fs/cgroup/memory/ecs/task/memory.limit_in_bytes)"},
		{"cgroup v1 unlimited", map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n", "proc/meminfo": meminfo},
			nil, 24000000 << 10 / 4, "25% of the machine's"},
		{"GOMEMLIMIT wins", map[string]string{"sys/fs/cgroup/memory.max": "1073741824\n"},
			map[string]string{"GOMEMLIMIT": "300MiB"}, 0, "GOMEMLIMIT=300MiB in the environment"},
		{"nothing readable", nil, nil, gib, "1 GiB: neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Choose(fakeRoot(t, tc.files), func(k string) string { return tc.env[k] })
			if d.Limit != tc.limit || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Choose = %d %q, want %d %q", d.Limit, d.Reason, tc.limit, tc.reason)
			}
		})
	}
}

// TestHoldRaisesTheRuntimeLimit applies limits to this test process's
// runtime and reads them back from it.
func TestHoldRaisesTheRuntimeLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	root := fakeRoot(t, map[string]string{"sys/fs/cgroup/memory.max": "268435456\n"}) // 256 MiB
	g := Start(root, noEnv)
	t.Cleanup(g.Stop)
	beforeGC := gogc()
	t.Cleanup(func() { debug.SetGCPercent(beforeGC) })
	if got := debug.SetMemoryLimit(-1); got != 256<<20*8/10 {
		t.Fatalf("runtime limit %d after Start, want 80%% of 256 MiB", got)
	}
	var log strings.Builder
	g.SetLogger(slog.New(slog.NewTextHandler(&log, nil)))
	g.Hold(50<<20, "members set") // twice is under the limit: unchanged
	if got := debug.SetMemoryLimit(-1); got != 256<<20*8/10 {
		t.Fatalf("runtime limit %d after a small Hold", got)
	}
	g.Hold(300<<20, "members set")
	if got := debug.SetMemoryLimit(-1); got != 600<<20 {
		t.Fatalf("runtime limit %d after Hold(300 MiB), want 600 MiB", got)
	}
	for _, want := range []string{`limit="204 MiB" why="80% of the container's 256 MiB`, `limit="600 MiB" why="twice the members set the job holds (300 MiB)`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log.String())
		}
	}
}

// TestHoldLowersGOGCForALargeLiveSet: a small live set keeps GOGC=400; a
// diff's 112 MiB (taken as all pointers) brings it to 100, so that its heap grows 112 MiB
// past the live set instead of 448; it is never raised again, nor below
// minGCPercent.
func TestHoldLowersGOGCForALargeLiveSet(t *testing.T) {
	before := gogc()
	t.Cleanup(func() { debug.SetGCPercent(before) })

	g := Start(fakeRoot(t, nil), noEnv)
	t.Cleanup(g.Stop)
	if got := gogc(); got != DefaultGCPercent {
		t.Fatalf("GOGC %d after Start, want %d", got, DefaultGCPercent)
	}
	var log strings.Builder
	g.SetLogger(slog.New(slog.NewTextHandler(&log, nil)))
	for _, step := range []struct {
		live int64
		want int
	}{{20 << 20, 400}, {112 << 20, 100}, {50 << 20, 100}, {1 << 30, 100}} {
		g.Hold(step.live, "partitions")
		if got := gogc(); got != step.want {
			t.Errorf("GOGC %d after Hold(%s), want %d", got, Bytes(step.live), step.want)
		}
	}
	if !strings.Contains(log.String(), `gogc=100 why="the heap grows by at most 112 MiB past the partitions the job holds (112 MiB)"`) {
		t.Errorf("log lacks the GOGC it chose and why:\n%s", log.String())
	}
}

// gogc is the runtime's GOGC now.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestGOGCFollowsTheLiveHeap: nothing declared, a live set of 400 MiB
// without pointers appears (cheap to collect); after the collection that finds it GOGC is down to its floor,
// so that the heap stays near the live set instead of five times it; once
// it is gone
// GOGC is back to 400.
func TestGOGCFollowsTheLiveHeap(t *testing.T) {
	before := gogc()
	t.Cleanup(func() { debug.SetGCPercent(before) })
	g := Start(fakeRoot(t, nil), noEnv)
	t.Cleanup(g.Stop)
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for gogc() != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOGC %d, want %d", gogc(), want)
			}
			runtime.GC() // the adaptation runs after a collection
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(DefaultGCPercent)
	live := make([]byte, 400<<20)
	for i := range live {
		live[i] = byte(i) // touched: the pages are really there
	}
	waitFor(minGCPercent)
	runtime.KeepAlive(live)
	live = nil
	waitFor(DefaultGCPercent)
}

// TestHoldFlatLeavesTheHeapLessRoom: a live set without pointers costs a
// collection nothing to mark, so the heap grows only heapRoom past it: a
// 209 MiB members set brings GOGC to 38, where a diff's partitions of the
// same size keep 100.
func TestHoldFlatLeavesTheHeapLessRoom(t *testing.T) {
	before := gogc()
	t.Cleanup(func() { debug.SetGCPercent(before) })
	g := Start(fakeRoot(t, nil), noEnv)
	t.Cleanup(g.Stop)
	g.HoldFlat(209<<20, "members set")
	if got := gogc(); got != 38 {
		t.Errorf("GOGC %d after HoldFlat(209 MiB), want 38", got)
	}
	g.Hold(209<<20, "partitions")
	if got := gogc(); got != 38 {
		t.Errorf("GOGC %d after a Hold of the same size, want it left at 38 (never raised)", got)
	}
	if GCPercentFor(209<<20, 209<<20) != 100 {
		t.Errorf("GCPercentFor a scannable 209 MiB is %d, want 100", GCPercentFor(209<<20, 209<<20))
	}
}

func TestEnvironmentWins(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	beforeGC := debug.SetGCPercent(-1)
	debug.SetGCPercent(150) // what the runtime made of GOGC
	t.Cleanup(func() { debug.SetGCPercent(beforeGC) })
	debug.SetMemoryLimit(300 << 20) // what the runtime made of GOMEMLIMIT
	g := Start(fakeRoot(t, nil), func(k string) string { return map[string]string{"GOMEMLIMIT": "300MiB", "GOGC": "150"}[k] })
	g.Hold(1<<30, "diff partitions")
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Fatalf("runtime limit %d, want GOMEMLIMIT's 300 MiB untouched", got)
	}
	if p := debug.SetGCPercent(-1); p != 150 {
		t.Fatalf("GOGC %d, want the environment's 150 untouched", p)
	}
	if d := g.Current(); !d.FromEnv || d.Limit != 0 {
		t.Errorf("Current = %+v", d)
	}
}
