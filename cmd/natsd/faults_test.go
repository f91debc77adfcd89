package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// Faults in files and ports at start-up: each must fail with exit 1 and
// one line naming the problem, and leave nothing behind (no PID file, no
// ports file, no temporary file).

// readOnlyDir returns a directory in which nobody, root included, can
// create a file. Root ignores permission bits, so as root it sets the
// immutable attribute (chattr +i, on file systems that have it, such as
// ext4) or mounts a read-only tmpfs over the directory; it skips the test
// if neither works here.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ro")
	assert.NilError(t, os.Mkdir(dir, 0o555))
	if os.Geteuid() != 0 {
		return dir
	}
	out, err := exec.Command("chattr", "+i", dir).CombinedOutput()
	if err == nil {
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
		return dir
	}
	why := fmt.Sprintf("chattr +i: %v %s", err, strings.TrimSpace(string(out)))
	out, err = exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir).CombinedOutput()
	if err == nil {
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		return dir
	}
	t.Skipf("cannot make a directory read-only for root here (%s; mount -o ro: %v %s)", why, err, strings.TrimSpace(string(out)))
	return ""
}

// assertEmpty fails unless dir holds no file (a temporary file left by a
// failed atomic write counts).
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, len(names), 0, "left in %s: %v", dir, names)
}

// runFailing runs natsd (logging to a file of its own, so that stderr has
// only what the person sees) and requires exit 1 with exactly one line,
// "natsd: " plus something containing each of want.
func runFailing(t *testing.T, args []string, want ...string) string {
	t.Helper()
	prepareNatsd(t)
	logPath := filepath.Join(t.TempDir(), "natsd.log")
	code, out := runNatsd(t, append([]string{"-l", logPath}, args...)...)
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.HasPrefix(out, "natsd: ") && strings.Count(out, "\n") == 1 && strings.HasSuffix(out, "\n"), "want one line, got:\n%s", out)
	for _, w := range want {
		assert.Assert(t, strings.Contains(out, w), "%q lacks %q", out, w)
	}
	t.Logf("%s", strings.TrimSpace(out))
	assert.Assert(t, panics(out+readFile(logPath)) == 0, "%s", out)
	return out
}

func TestFileFaults(t *testing.T) {
	cases := []struct {
		name string
		// setup returns the flags under test and what the one line must
		// say; pidDir and portsDir are writable directories the flags may
		// use, which must stay empty.
		setup func(t *testing.T, pidDir, portsDir string) ([]string, []string)
	}{
		{
			name: "PID file directory missing",
			setup: func(t *testing.T, pidDir, portsDir string) ([]string, []string) {
				pid := filepath.Join(pidDir, "missing", "natsd.pid")
				return []string{"-P", pid, "--ports_file_dir", portsDir},
					[]string{"write pid file " + pid + ": no such file or directory"}
			},
		},
		{
			name: "PID file directory read-only",
			setup: func(t *testing.T, pidDir, portsDir string) ([]string, []string) {
				pid := filepath.Join(readOnlyDir(t), "natsd.pid")
				want := "permission denied"
				if os.Geteuid() == 0 {
					want = "write pid file " + pid + ": " // EPERM (immutable) or EROFS (read-only mount)
				}
				return []string{"-P", pid, "--ports_file_dir", portsDir}, []string{"write pid file " + pid, want}
			},
		},
		{
			name: "PID file directory is a file",
			setup: func(t *testing.T, pidDir, portsDir string) ([]string, []string) {
				file := filepath.Join(t.TempDir(), "file")
				assert.NilError(t, os.WriteFile(file, nil, 0o644))
				pid := filepath.Join(file, "natsd.pid")
				return []string{"-P", pid, "--ports_file_dir", portsDir},
					[]string{"write pid file " + pid + ": not a directory"}
			},
		},
		{
			name: "ports file directory missing",
			setup: func(t *testing.T, pidDir, portsDir string) ([]string, []string) {
				missing := filepath.Join(portsDir, "missing")
				return []string{"-P", filepath.Join(pidDir, "natsd.pid"), "--ports_file_dir", missing},
					[]string{"write ports file " + missing + "/natsd_", ".ports: no such file or directory"}
			},
		},
		{
			name: "ports file directory read-only",
			setup: func(t *testing.T, pidDir, portsDir string) ([]string, []string) {
				ro := readOnlyDir(t)
				return []string{"-P", filepath.Join(pidDir, "natsd.pid"), "--ports_file_dir", ro},
					[]string{"write ports file " + ro + "/natsd_"}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pidDir, portsDir := t.TempDir(), t.TempDir()
			args, want := tc.setup(t, pidDir, portsDir)
			runFailing(t, append([]string{"-a", "127.0.0.1", "-p", "-1"}, args...), want...)
			assertEmpty(t, pidDir)
			assertEmpty(t, portsDir)
		})
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	assert.NilError(t, cmd.Run())
	return cmd.Process.Pid
}

// TestStalePidFile: a PID file left by a natsd that crashed names a dead
// process, or a live process that is not natsd (its PID was reused), or
// holds no PID at all (cut short): natsd overwrites it, and removes it on
// shutdown.
func TestStalePidFile(t *testing.T) {
	prepareNatsd(t)
	sleeper := exec.Command("sleep", "60")
	assert.NilError(t, sleeper.Start())
	t.Cleanup(func() {
		sleeper.Process.Kill()
		sleeper.Wait()
	})
	for name, content := range map[string]string{
		"dead PID":          strconv.Itoa(deadPID(t)) + "\n",
		"live, not natsd":   strconv.Itoa(sleeper.Process.Pid),
		"empty":             "",
		"garbage":           "12ab\x00",
		"PID 0 or negative": "-1",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "natsd.pid")
			assert.NilError(t, os.WriteFile(pidFile, []byte(content), 0o644))
			p := startNatsdPlain(t, "-a", "127.0.0.1", "-p", "-1", "-P", pidFile, "--ports_file_dir", dir)
			p.dir, p.pidFile = dir, pidFile
			p.waitFile(p.portsFile())
			assert.Equal(t, readFile(pidFile), strconv.Itoa(p.pid()))
			p.signal(syscall.SIGTERM)
			assert.Equal(t, p.wait(), 0)
			p.assertNoFiles()
		})
	}
}

// TestPidFileOfLiveNatsd: a second natsd given the PID file of one that is
// running refuses to start, naming that PID, and touches nothing of the
// first: its PID file, its ports file and its clients stay.
func TestPidFileOfLiveNatsd(t *testing.T) {
	prepareNatsd(t)
	first := startNatsd(t)
	nc, err := nats.Connect(first.url(), nats.NoReconnect())
	assert.NilError(t, err)
	defer nc.Close()
	before, err := os.ReadDir(first.dir)
	assert.NilError(t, err)

	portsDir := t.TempDir()
	runFailing(t, []string{"-a", "127.0.0.1", "-p", "-1", "-P", first.pidFile, "--ports_file_dir", portsDir},
		fmt.Sprintf("write pid file %s: natsd with PID %d is running and uses it", first.pidFile, first.pid()))
	assertEmpty(t, portsDir)
	assert.Equal(t, readFile(first.pidFile), strconv.Itoa(first.pid()))
	after, err := os.ReadDir(first.dir)
	assert.NilError(t, err)
	assert.Equal(t, len(after), len(before))
	assert.NilError(t, nc.Flush(), "the first natsd stopped serving")

	first.signal(syscall.SIGTERM)
	assert.Equal(t, first.wait(), 0)
	first.assertNoFiles()
}

// TestPortFaults: a port in use (client, monitoring or profiling), an
// address that is not one (brackets around an IP), and an address of no
// interface of this host (192.0.2.1, TEST-NET-1: the bind fails locally,
// nothing is sent) each give one line and exit 1, and leave no file.
func TestPortFaults(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"client port in use", []string{"-a", "127.0.0.1", "-p", port}, []string{"listen tcp 127.0.0.1:" + port + ": bind: address already in use"}},
		{"monitoring port in use", []string{"-a", "127.0.0.1", "-p", "-1", "-m", port}, []string{"127.0.0.1:" + port, "address already in use"}},
		{"profiling port in use", []string{"-a", "127.0.0.1", "-p", "-1", "--profile", port}, []string{"127.0.0.1:" + port, "address already in use"}},
		{"bad address", []string{"-a", "[::1]", "-p", "-1"}, []string{"[::1]", "missing port in address"}},
		{"address not on this host", []string{"-a", "192.0.2.1", "-p", "-1"}, []string{"listen tcp 192.0.2.1:0: bind: cannot assign requested address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			runFailing(t, append(tc.args, "-P", filepath.Join(dir, "natsd.pid"), "--ports_file_dir", dir), tc.want...)
			assert.Assert(t, time.Since(start) < 10*time.Second, "took %v to fail", time.Since(start))
			assertEmpty(t, dir)
		})
	}
}
