package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared (a build or a test suite running beside the
// harness). Before each measurement the harness waits, a bounded time, for
// the CPUs to be quiet, and the report says how busy they were.
const (
	quietSample  = 300 * time.Millisecond
	quietBusy    = 0.15 // fraction of all CPUs busy that counts as quiet
	quietMaxWait = 30 * time.Second
	// quietBudget bounds the waiting over the whole run, so that a machine
	// that stays busy cannot stretch `make bench` past its time.
	quietBudget = 2 * time.Minute
)

// busyFraction returns how busy all CPUs were over d, from /proc/stat.
func busyFraction(d time.Duration) (float64, bool) {
	b1, t1, ok1 := cpuTimes()
	time.Sleep(d)
	b2, t2, ok2 := cpuTimes()
	if !ok1 || !ok2 || t2 <= t1 {
		return 0, false
	}
	return float64(b2-b1) / float64(t2-t1), true
}

func cpuTimes() (busy, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

// waitQuiet waits until the CPUs are quiet, at most quietMaxWait, and
// returns the busy fraction of the last sample; the harness records it.
func (h *harness) waitQuiet() float64 {
	start := time.Now()
	deadline := start.Add(min(quietMaxWait, quietBudget-h.quietWaited))
	defer func() { h.quietWaited += time.Since(start) }()
	for {
		f, ok := busyFraction(quietSample)
		if !ok || f <= quietBusy {
			h.res.background = append(h.res.background, f)
			return f
		}
		if time.Now().After(deadline) {
			logf("    the machine is still %.0f%% busy with other work; measuring anyway", 100*f)
			h.res.background = append(h.res.background, f)
			return f
		}
		time.Sleep(time.Second)
	}
}
