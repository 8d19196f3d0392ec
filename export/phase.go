package export

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"time"
)

// PhaseStats is what one phase of a run cost: its pace, and the process's
// CPU, the garbage collector's share of it and the peak RSS while it ran.
// The scale benchmark reads them from summary.json.
type PhaseStats struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	Calls   int64   `json:"calls"`
	// Users the phase met: the users with groups for the group phase, the
	// users listed for the ListUsers pass.
	Users       int64   `json:"users"`
	Rows        int64   `json:"rows"`
	CallsPerSec float64 `json:"calls_per_second"`
	UsersPerSec float64 `json:"users_per_second"`
	// CPU the process used (every goroutine: the exporter, and an
	// in-process emulator if there is one) and the collector's part of it,
	// from runtime/metrics.
	CPUSeconds   float64 `json:"cpu_seconds"`
	GCCPUSeconds float64 `json:"gc_cpu_seconds"`
	GCCPUShare   float64 `json:"gc_cpu_share"`
	// PeakRSSBytes is the process's resident high-water mark during the
	// phase (since its start, where the kernel cannot reset the mark).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// phaseMeter measures the phases of one run, one after the other.
type phaseMeter struct {
	progress *Progress
	done     []PhaseStats
	cur      string
	start    time.Time
	first    ProgressSnapshot
	cpu, gc  float64
}

// begin ends the current phase, if any, and starts the next.
func (m *phaseMeter) begin(phase string) {
	m.end()
	m.progress.entered(phase)
	resetPeakRSS()
	m.cur, m.start, m.first = phase, time.Now(), m.progress.Snapshot()
	m.cpu, m.gc = cpuSeconds()
}

// end records the current phase.
func (m *phaseMeter) end() {
	if m.cur == "" {
		return
	}
	now := m.progress.Snapshot()
	cpu, gc := cpuSeconds()
	st := PhaseStats{Phase: m.cur, Seconds: time.Since(m.start).Seconds(),
		Calls: now.TotalCalls() - m.first.TotalCalls(), Rows: now.Rows - m.first.Rows,
		Users:      max(now.Users+now.Skipped-m.first.Users-m.first.Skipped, now.Listed-m.first.Listed),
		CPUSeconds: cpu - m.cpu, GCCPUSeconds: gc - m.gc, PeakRSSBytes: peakRSS()}
	if st.Seconds > 0 {
		st.CallsPerSec, st.UsersPerSec = float64(st.Calls)/st.Seconds, float64(st.Users)/st.Seconds
	}
	if st.CPUSeconds > 0 {
		st.GCCPUShare = st.GCCPUSeconds / st.CPUSeconds
	}
	m.done = append(m.done, st)
	m.cur = ""
}

// cpuSeconds is the CPU the process has used (what the runtime made
// available less what sat idle) and the collector's part of it.
func cpuSeconds() (used, gc float64) {
	samples := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(samples)
	val := func(s metrics.Sample) float64 {
		if s.Value.Kind() == metrics.KindFloat64 {
			return s.Value.Float64()
		}
		return 0
	}
	return val(samples[0]) - val(samples[1]), val(samples[2])
}

// resetPeakRSS starts the kernel's resident high-water mark again (Linux:
// clear_refs 5); elsewhere the mark stays the process's.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the kernel's resident high-water mark (VmHWM), 0 when unknown.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
