package monitor

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// usage measures the process's resident memory and CPU use for /varz and
// STATSZ, as nats-server reports them: mem in bytes, cpu in percent of one
// core. The CPU figure is the average since the previous measurement (or
// since the process started, for the first), so no sampling goroutine is
// needed.
type usage struct {
	mu       sync.Mutex
	lastCPU  time.Duration // CPU time used at the last measurement
	lastWall time.Time
}

// processStart approximates when the process started: when this package
// was initialised.
var processStart = time.Now()

// measure returns the resident set size and the CPU percentage.
func (u *usage) measure(now time.Time) (rss int64, cpu float64) {
	rss = residentBytes()
	used := cpuTime()
	u.mu.Lock()
	defer u.mu.Unlock()
	from, fromCPU := u.lastWall, u.lastCPU
	if from.IsZero() {
		from, fromCPU = processStart, 0
	}
	if wall := now.Sub(from); wall > 0 {
		cpu = float64(used-fromCPU) / float64(wall) * 100
		cpu = float64(int64(cpu*10+0.5)) / 10 // one decimal, as nats-server's
	}
	u.lastCPU, u.lastWall = used, now
	return rss, max(cpu, 0)
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// residentBytes returns the resident set size from /proc/self/statm, or
// the memory the Go runtime holds from the system where there is no /proc.
func residentBytes() int64 {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := bytes.Fields(b); len(f) > 1 {
			if pages, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				return pages * int64(os.Getpagesize())
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
