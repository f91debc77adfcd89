// Package soak is what the reliability suites share: whether the long
// (soak) sizes were asked for, the figures each suite records, and the
// table `make soak` prints from them.
//
// The suites run short in `make test`. With NATSD_SOAK=1 (set by
// `make soak`) they run at full size, and each appends one JSON line of
// [Figures] to the file named by NATSD_SOAK_REPORT, if set; the report
// command (./internal/soak/report) turns those lines into the table.
// Nothing here starts a goroutine or keeps state between calls.
package soak

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment variables read by the suites.
const (
	// EnvSoak set to "1" asks for the full (soak) sizes.
	EnvSoak = "NATSD_SOAK"
	// EnvReport names the file each suite appends its figures to.
	EnvReport = "NATSD_SOAK_REPORT"
)

// Enabled reports whether the soak sizes were asked for (NATSD_SOAK=1).
func Enabled() bool { return os.Getenv(EnvSoak) == "1" }

// Size returns short normally and long under NATSD_SOAK=1.
func Size[T any](short, long T) T {
	if Enabled() {
		return long
	}
	return short
}

// Figures are one suite's measurements. Counts that do not apply are left
// at zero (or -1 for "not measured", shown as a dash).
type Figures struct {
	Suite string `json:"suite"`
	// Where the server ran: "in-process" or "process".
	Mode string `json:"mode"`
	// Connections held open at once.
	Connections int `json:"connections"`
	// Messages published, received (summed over subscribers) and lost
	// (accepted before shutdown began but not received by a live
	// subscriber: must be 0).
	Sent     int64 `json:"sent"`
	Received int64 `json:"received"`
	Lost     int64 `json:"lost"`
	// Shutdown is from the shutdown request (signal or call) to Stopped or
	// process exit; Deadline is the shutdown_timeout it had to beat.
	Shutdown time.Duration `json:"shutdown_ns"`
	Deadline time.Duration `json:"deadline_ns"`
	// MaxRSSKiB is the server's peak resident set (for an in-process
	// server, the whole test process's, clients included).
	MaxRSSKiB int64 `json:"max_rss_kib"`
	// Goroutines and open file descriptors of the server: before the
	// clients connected, at the peak, and after shutdown (-1: not
	// measured; a process has none left once it exited).
	GoroutinesBefore int `json:"goroutines_before"`
	GoroutinesPeak   int `json:"goroutines_peak"`
	GoroutinesAfter  int `json:"goroutines_after"`
	FDsBefore        int `json:"fds_before"`
	FDsPeak          int `json:"fds_peak"`
	FDsAfter         int `json:"fds_after"`
	// Signals sent to the server process, and panics seen (must be 0).
	Signals int    `json:"signals"`
	Panics  int    `json:"panics"`
	Notes   string `json:"notes,omitempty"`
}

// Record appends f as one JSON line to the file named by NATSD_SOAK_REPORT.
// Without it, Record does nothing.
func Record(f Figures) error {
	path := os.Getenv(EnvReport)
	if path == "" {
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("soak report %s: %w", path, err)
	}
	_, werr := file.Write(append(b, '\n'))
	cerr := file.Close()
	if werr != nil {
		return fmt.Errorf("soak report %s: %w", path, werr)
	}
	return cerr
}

// Read returns the figures recorded in the file at path, in order.
func Read(path string) ([]Figures, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Figures
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var fig Figures
		if err := json.Unmarshal(sc.Bytes(), &fig); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, fig)
	}
	return out, sc.Err()
}

// WriteTable writes figs as a Markdown table.
func WriteTable(w io.Writer, figs []Figures) {
	fmt.Fprintln(w, "| suite | server | conns held | msgs sent | received | lost | shutdown (deadline) | max RSS | goroutines before / peak / after | fds before / peak / after | signals | panics |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, f := range figs {
		sent, received, lost := count(f.Sent), count(f.Received), count(f.Lost)
		if f.Sent == 0 && f.Received == 0 && f.Lost == 0 {
			sent, received, lost = "–", "–", "–" // no messages in this suite
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n",
			f.Suite, f.Mode, count(int64(f.Connections)), sent, received, lost,
			shutdown(f.Shutdown, f.Deadline), rss(f.MaxRSSKiB),
			triple(f.GoroutinesBefore, f.GoroutinesPeak, f.GoroutinesAfter),
			triple(f.FDsBefore, f.FDsPeak, f.FDsAfter),
			count(int64(f.Signals)), f.Panics)
	}
	var notes []string
	for _, f := range figs {
		if f.Notes != "" {
			notes = append(notes, fmt.Sprintf("- %s (%s): %s", f.Suite, f.Mode, f.Notes))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

func count(n int64) string {
	if n < 0 {
		return "–"
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func shutdown(d, deadline time.Duration) string {
	if d <= 0 {
		return "–"
	}
	if deadline <= 0 {
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%v (%v)", d.Round(time.Millisecond), deadline)
}

func rss(kib int64) string {
	if kib <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

func triple(a, b, c int) string {
	f := func(n int) string {
		if n < 0 {
			return "–"
		}
		return fmt.Sprint(n)
	}
	return f(a) + " / " + f(b) + " / " + f(c)
}

// SelfMaxRSSKiB returns this process's peak resident set in KiB.
func SelfMaxRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss
}

// FDs returns how many file descriptors process pid has open ("self" for
// this one), or -1 if /proc cannot tell.
func FDs(pid string) int {
	entries, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// FitConnections returns how many connections a test can hold, at most
// want, when each costs perConn file descriptors in this process and
// reserve more are kept for everything else. It raises RLIMIT_NOFILE as
// far as it needs or, where the hard limit cannot be raised (no
// CAP_SYS_RESOURCE, even as root), as far as the hard limit, and then
// returns fewer than want with a note saying why. restore puts the old
// limits back; children started meanwhile inherit the raised one.
func FitConnections(want, perConn, reserve int) (n int, restore func(), note string, err error) {
	need := uint64(want*perConn + reserve)
	if restore, err := RaiseFDLimit(need); err == nil {
		return want, restore, "", nil
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		return 0, nil, "", fmt.Errorf("getrlimit: %w", err)
	}
	restore, err = RaiseFDLimit(old.Max)
	if err != nil {
		return 0, nil, "", err
	}
	n = (int(old.Max) - reserve) / perConn
	if n <= 0 {
		restore()
		return 0, nil, "", fmt.Errorf("RLIMIT_NOFILE hard limit %d leaves no room for connections", old.Max)
	}
	if n > 1000 {
		n -= n % 100
	}
	note = fmt.Sprintf("capped at %d of %d connections: the RLIMIT_NOFILE hard limit is %d and this machine does not allow raising it (no CAP_SYS_RESOURCE)", n, want, old.Max)
	return n, restore, note, nil
}

// ScaleConnections is the preamble of the scale suites: it returns how
// many connections the test holds (1,000, or 20,000 under NATSD_SOAK=1,
// fewer if the file-descriptor limit cannot be raised that far, with a
// note, also logged, saying why), having raised the limit for one descriptor per
// connection plus reserve (restored at the end of the test). It skips the
// test when fewer than 1,000 fit.
func ScaleConnections(t testing.TB, reserve int) (n int, note string) {
	t.Helper()
	want := Size(1000, 20000)
	n, restore, note, err := FitConnections(want, 1, reserve)
	if err != nil || n < 1000 {
		t.Skipf("scale shutdown needs a file-descriptor limit above %d for %d connections: %v (%s)", want+reserve, want, err, note)
	}
	t.Cleanup(restore)
	if note != "" {
		t.Logf("NOTE: %s", note)
	}
	return n, note
}

// RaiseFDLimit makes sure RLIMIT_NOFILE allows at least need descriptors,
// raising the soft limit and, if it must (as root), the hard one. It
// returns a function that restores the old limits, or an error saying why
// the limit could not be raised. Children started afterwards inherit the
// raised limit.
func RaiseFDLimit(need uint64) (restore func(), err error) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		return nil, fmt.Errorf("getrlimit: %w", err)
	}
	if old.Cur >= need {
		return func() {}, nil
	}
	next := old
	next.Cur = need
	if next.Max < need {
		next.Max = need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		return nil, fmt.Errorf("RLIMIT_NOFILE is %d (hard %d) and raising it to %d failed: %w", old.Cur, old.Max, need, err)
	}
	return func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) }, nil
}
