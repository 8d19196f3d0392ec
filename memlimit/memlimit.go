// Package memlimit chooses the Go runtime's soft memory limit from the
// memory the process may use, and raises it when a job knows it will hold
// a large live set, so that the collector neither runs without pause under
// a limit the work has outgrown nor lets the heap pass the container's.
//
// The container's limit is read from cgroup files with a few lines of the
// standard library rather than a dependency such as
// github.com/KimMachineGun/automemlimit: two files (v2 memory.max, v1
// memory.limit_in_bytes) and /proc/self/cgroup's path are all it takes, and
// the choice of the limit (a share, then raised to twice a live set, logged
// with why) is ours either way.
package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	// containerShare of a container's memory goes to the heap: the rest
	// is for the runtime's own overhead, stacks and the page cache of our
	// writes, which count against a cgroup too.
	containerShare = 0.8
	// machineShare of the machine's memory, when no container limits the
	// process: a batch job sharing a host with others.
	machineShare = 0.25
	// unlimited is above any real cgroup v1 limit ("no limit" is 2^63
	// rounded down to a page).
	unlimited = 1 << 60
)

// Decision is a memory limit and why it was chosen.
type Decision struct {
	Limit   int64  // bytes; 0 when the environment's GOMEMLIMIT rules
	Reason  string // for the log
	FromEnv bool   // GOMEMLIMIT is set: the runtime already applied it
}

// String is the limit and why, for a line of output.
func (d Decision) String() string {
	if d.FromEnv {
		return d.Reason
	}
	return Bytes(d.Limit) + ", " + d.Reason
}

// Choose decides the default limit. root is where the file system is
// mounted ("/" in production; a directory of fake cgroup and proc files in
// tests); getenv reads the environment.
func Choose(root string, getenv func(string) string) Decision {
	if v := getenv("GOMEMLIMIT"); v != "" {
		return Decision{Reason: "GOMEMLIMIT=" + v + " in the environment", FromEnv: true}
	}
	if limit, source, ok := containerLimit(root); ok {
		return Decision{Limit: int64(float64(limit) * containerShare),
			Reason: fmt.Sprintf("80%% of the container's %s (%s)", Bytes(limit), source)}
	}
	if total, ok := machineMemory(root); ok {
		return Decision{Limit: int64(float64(total) * machineShare),
			Reason: fmt.Sprintf("25%% of the machine's %s (no container limit)", Bytes(total))}
	}
	return Decision{Limit: 1 << 30, Reason: "1 GiB: neither a container limit nor /proc/meminfo was readable"}
}

// containerLimit reads the process's cgroup memory limit: v2's memory.max
// in the process's own cgroup (or the namespace's root, as inside a
// container), else v1's memory.limit_in_bytes.
func containerLimit(root string) (int64, string, bool) {
	var v2, v1 []string
	if data, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup")); err == nil {
		for line := range strings.Lines(string(data)) {
			// "0::/path" (v2) or "N:memory:/path" (v1)
			parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				v2 = append(v2, filepath.Join("sys/fs/cgroup", parts[2], "memory.max"))
			case slices.Contains(strings.Split(parts[1], ","), "memory"):
				v1 = append(v1, filepath.Join("sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
			}
		}
	}
	v2 = append(v2, "sys/fs/cgroup/memory.max")
	v1 = append(v1, "sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, name := range append(v2, v1...) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue
		}
		text := strings.TrimSpace(string(data))
		if text == "max" {
			return 0, "", false // v2 says no limit
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n <= 0 || n >= unlimited {
			return 0, "", false
		}
		return n, "/" + name, true
	}
	return 0, "", false
}

// machineMemory is /proc/meminfo's MemTotal.
func machineMemory(root string) (int64, bool) {
	data, err := os.ReadFile(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err == nil && kb > 0
		}
	}
	return 0, false
}

// Governor holds the process's memory limit and the collector's GOGC: the
// defaults Start gave them, the limit raised and GOGC lowered by what jobs
// say they will hold. It is the one owner of debug.SetMemoryLimit and
// debug.SetGCPercent in the process; safe for concurrent use.
type Governor struct {
	mu      sync.Mutex
	current Decision
	// gcPercent is GOGC now; 0 when GOGC in the environment rules.
	gcPercent int
	// held is the largest live set a job said it would hold; heldScan the
	// largest of those said to be all pointers (Hold, not HoldFlat).
	held, heldScan int64
	log            *slog.Logger
	stopped        atomic.Bool
}

// Start chooses the default limit and applies it, unless GOMEMLIMIT in the
// environment set one, and sets GOGC to DefaultGCPercent unless GOGC in
// the environment set it.
func Start(root string, getenv func(string) string) *Governor {
	g := &Governor{current: Choose(root, getenv)}
	if !g.current.FromEnv {
		debug.SetMemoryLimit(g.current.Limit)
	}
	if getenv("GOGC") == "" {
		g.gcPercent = DefaultGCPercent
		debug.SetGCPercent(g.gcPercent)
		g.afterEachGC()
	}
	return g
}

// SetLogger logs the limit chosen so far, and every raise after it.
func (g *Governor) SetLogger(log *slog.Logger) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.log = log
	g.logLocked()
}

func (g *Governor) logLocked() {
	if g.log == nil {
		return
	}
	if g.current.FromEnv {
		g.log.Info("memory limit", "limit", "from the environment", "why", g.current.Reason)
		return
	}
	g.log.Info("memory limit", "limit", Bytes(g.current.Limit), "why", g.current.Reason)
}

// Current is the limit and why; Limit is 0 when the environment set it.
func (g *Governor) Current() Decision {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current
}

// Hold says the job is about to keep live bytes of what (for the log) for
// a while, with pointers all through (a diff's partitions): the limit is
// raised to at least twice that, so the collector runs about as often as
// at GOGC=100 instead of on every allocation; and GOGC is lowered for it
// (GCPercentFor of the largest sets held) now, before the set is built,
// rather than after the collection that would find it. GOMEMLIMIT and GOGC in the
// environment win. A nil Governor does nothing.
func (g *Governor) Hold(live int64, what string) { g.hold(live, live, what) }

// HoldFlat is Hold for a live set without pointers (a sorted array of
// hashes), which costs the collector nothing to mark, or one whose share of
// pointers the job does not know: the heap grows past it by heapRoom, or
// by the scannable heap the collector measures, whichever is more.
func (g *Governor) HoldFlat(live int64, what string) { g.hold(live, 0, what) }

func (g *Governor) hold(live, scan int64, what string) {
	if g == nil || live <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held, g.heldScan = max(g.held, live), max(g.heldScan, scan)
	if pct := GCPercentFor(g.held, g.heldScan); g.gcPercent > pct {
		g.gcPercent = pct
		debug.SetGCPercent(pct)
		if g.log != nil {
			g.log.Info("collector", "gogc", pct, "why", fmt.Sprintf("the heap grows by at most %s past the %s the job holds (%s)", Bytes(g.held*int64(pct)/100), what, Bytes(live)))
		}
	}
	if g.current.FromEnv || 2*live <= g.current.Limit {
		return
	}
	g.current = Decision{Limit: 2 * live,
		Reason: fmt.Sprintf("twice the %s the job holds (%s), above %s", what, Bytes(live), g.current.Reason)}
	debug.SetMemoryLimit(g.current.Limit)
	g.logLocked()
}

// Bytes formats n in binary units for a log line.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	default:
		return strconv.FormatInt(n, 10) + " B"
	}
}
