package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/soak"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// TestScaleShutdownProcess holds N subscribed connections to a natsd
// process (1,000 in make test, 20,000 under NATSD_SOAK=1, fewer if the
// file-descriptor limit cannot be raised that far) and sends it SIGTERM:
// it exits 0 within shutdown_timeout, its debug log shows every connection
// closed with "Server Shutdown", every client sees a clean EOF, no file is
// left, and this process's file descriptors return to what they were.
func TestScaleShutdownProcess(t *testing.T) {
	prepareNatsd(t)
	// This process holds the client ends, natsd the server ends; natsd
	// inherits the raised limit.
	n, note := soak.ScaleConnections(t, 256)
	const deadline = 10 * time.Second
	logPath := filepath.Join(t.TempDir(), "natsd.log")
	conf := writeConf(t, fmt.Sprintf("shutdown_timeout: %q\n", deadline))
	p := startNatsd(t, "-c", conf, "-D", "-l", logPath, "--profile", "-1")
	fdBefore := soak.FDs("self")
	gBefore, childFDBefore := p.goroutines(), soak.FDs(fmt.Sprint(p.pid()))

	began := time.Now()
	clients, err := soak.DialMany(p.addr(), n, 32, func(i int) string {
		return fmt.Sprintf("SUB scale.%d %d\r\n", i, i)
	}, 60*time.Second)
	assert.NilError(t, err)
	defer soak.CloseAll(clients)
	dialed := time.Since(began)
	gPeak, childFDPeak := p.goroutines(), soak.FDs(fmt.Sprint(p.pid()))

	start := time.Now()
	p.signal(syscall.SIGTERM)
	assert.Assert(t, p.exitedWithin(deadline+5*time.Second), "natsd did not exit within shutdown_timeout %v", deadline)
	took := time.Since(start)
	assert.Equal(t, p.exitCode(), 0, "%v", p.err)
	assert.Assert(t, took < deadline, "shutdown of %d connections took %v, over shutdown_timeout %v", n, took, deadline)

	log := readFile(logPath)
	assert.Equal(t, countLines(log, "Client connection closed: Server Shutdown"), n)
	assert.Equal(t, countLines(log, "Client connection closed:"), n)
	assert.Assert(t, !strings.Contains(log, "Shutdown timeout"), "connections were force-closed")
	assert.Equal(t, panics(log+p.out.String()), 0)
	assert.DeepEqual(t, checkTransitions(t, log), []string{"init", "listening", "shutting_down", "stopped"})
	p.assertNoFiles()

	bad, first := soak.ExpectEOF(clients, 5*time.Second)
	assert.Equal(t, bad, 0, "%d clients not closed cleanly; first: %v", bad, first)
	soak.CloseAll(clients)
	var fdAfter int
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if fdAfter = soak.FDs("self"); fdAfter <= fdBefore {
			return poll.Success()
		}
		return poll.Continue("%d fds open in the test, %d before", fdAfter, fdBefore)
	}, poll.WithTimeout(10*time.Second))

	t.Logf("%d connections dialed in %v; SIGTERM to exit %v; natsd goroutines %d/%d, fds %d/%d, max RSS %d KiB",
		n, dialed, took, gBefore, gPeak, childFDBefore, childFDPeak, p.maxRSSKiB())
	notes := []string{fmt.Sprintf("SIGTERM; %d connections dialed in %v; after = the test's own fds once natsd exited", n, dialed.Round(time.Millisecond))}
	if note != "" {
		notes = append(notes, note)
	}
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "scale shutdown", Mode: "process", Connections: n,
		Shutdown: took, Deadline: deadline, MaxRSSKiB: p.maxRSSKiB(),
		GoroutinesBefore: gBefore, GoroutinesPeak: gPeak, GoroutinesAfter: -1,
		FDsBefore: childFDBefore, FDsPeak: childFDPeak, FDsAfter: -1,
		Signals: 1, Panics: panics(log + p.out.String()),
		Notes: strings.Join(notes, "; "),
	}))
}
