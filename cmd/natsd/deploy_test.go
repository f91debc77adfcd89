package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// The ready-made deployment files in docs/deploy, each tested here.
const deployDir = "../../docs/deploy"

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	assert.NilError(t, err)
	return string(b)
}

// The systemd units: natsd.service for systemd >= 253 (Type=notify-reload)
// and natsd-systemd252.service for older ones (Type=notify), which must
// stay the same unit but for that line.
var systemdUnits = []struct{ file, typ string }{
	{"natsd.service", "Type=notify-reload"},
	{"natsd-systemd252.service", "Type=notify"},
}

func TestSystemdUnitDirectives(t *testing.T) {
	for _, u := range systemdUnits {
		t.Run(u.file, func(t *testing.T) {
			unit := readDeploy(t, u.file)
			assert.Equal(t, unitLine(t, unit, "Type"), strings.TrimPrefix(u.typ, "Type="))
			for _, want := range []string{
				"ExecReload=/usr/local/bin/natsd --signal reload=/run/natsd/natsd.pid",
				"KillSignal=SIGUSR2",
				"NotifyAccess=all", // the new process of an upgrade reports READY=1 and MAINPID=
				"WatchdogSec=",
				"NoNewPrivileges=yes",
				"ProtectSystem=strict",
				"DynamicUser=yes",
				"RuntimeDirectory=natsd",
			} {
				assert.Assert(t, strings.Contains(unit, "\n"+want), "%s lacks %q", u.file, want)
			}
			assert.Assert(t, strings.Contains(unit, "\nExecStart=/usr/local/bin/natsd -c /etc/natsd/natsd.conf -P /run/natsd/natsd.pid"))
		})
	}
}

// TestSystemdUnitsAgree: the two units differ in their Type line (and
// their comments) only, so a change to one is made to the other.
func TestSystemdUnitsAgree(t *testing.T) {
	directives := func(file, typ string) []string {
		var out []string
		for _, l := range strings.Split(readDeploy(t, file), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") && l != typ {
				out = append(out, l)
			}
		}
		return out
	}
	a, b := systemdUnits[0], systemdUnits[1]
	assert.DeepEqual(t, directives(a.file, a.typ), directives(b.file, b.typ))
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the units (with
// the test's natsd binary in place of /usr/local/bin/natsd). The
// Type=notify variant must verify with no message on any systemd; so must
// natsd.service on systemd >= 253, while before 253 the only message
// allowed is that Type=notify-reload is unknown.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd); the units are checked by TestSystemdUnitDirectives only")
	}
	out, _ := exec.Command(analyze, "--version").Output()
	m := regexp.MustCompile(`systemd (\d+)`).FindSubmatch(out)
	assert.Assert(t, m != nil, "systemd-analyze --version: %s", out)
	version, _ := strconv.Atoi(string(m[1]))
	verify := func(file string) string {
		body := strings.ReplaceAll(readDeploy(t, file), "/usr/local/bin/natsd", natsdBin)
		p := filepath.Join(t.TempDir(), "natsd.service")
		assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
		out, err := exec.Command(analyze, "verify", p).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	assert.Equal(t, verify("natsd-systemd252.service"), "", "systemd %d", version)
	got := verify("natsd.service")
	if version >= 253 {
		assert.Equal(t, got, "", "systemd %d", version)
	} else {
		t.Logf("systemd %d predates Type=notify-reload (253): %s", version, got)
		assert.Assert(t, got == "" || strings.HasSuffix(got, "Failed to parse service type, ignoring: notify-reload"), got)
	}
}

// TestNotifyFromEnvironment: the built binary, started as systemd starts
// either unit, reports READY with its PID, pings the watchdog, reports a
// reload made by the unit's own ExecReload command, and reports STOPPING
// when the unit's KillSignal tells it to drain.
func TestNotifyFromEnvironment(t *testing.T) {
	for _, u := range systemdUnits {
		t.Run(u.file, func(t *testing.T) { notifyAsUnit(t, readDeploy(t, u.file)) })
	}
}

// unitLine returns the value of the first "key=" line of unit.
func unitLine(t *testing.T, unit, key string) string {
	t.Helper()
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s= line", key)
	return ""
}

func notifyAsUnit(t *testing.T, unit string) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	assert.NilError(t, err)
	msgs := make(chan string, 256)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := l.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	defer func() {
		l.Close()
		for range msgs {
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case m := <-msgs:
				if strings.HasPrefix(m, prefix) {
					return m
				}
			case <-timeout:
				t.Fatalf("no message starting with %q", prefix)
			}
		}
	}
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "400000")
	p := startNatsd(t)
	assert.Equal(t, next("READY=1"), "READY=1\nMAINPID="+strconv.Itoa(p.cmd.Process.Pid)+"\nSTATUS=listening, 0 clients")
	assert.Assert(t, strings.Contains(next("STATUS="), "WATCHDOG=1"))
	reload := strings.NewReplacer("/usr/local/bin/natsd", natsdBin, "/run/natsd/natsd.pid", p.pidFile).Replace(unitLine(t, unit, "ExecReload"))
	argv := strings.Fields(reload)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	assert.NilError(t, err, "ExecReload %s: %s", reload, out)
	assert.Assert(t, strings.Contains(next("RELOADING=1"), "\nMONOTONIC_USEC="))
	next("READY=1")
	assert.Equal(t, unitLine(t, unit, "KillSignal"), "SIGUSR2")
	p.signal(syscall.SIGUSR2)
	assert.Assert(t, strings.Contains(next("STOPPING=1"), "\nEXTEND_TIMEOUT_USEC="))
	assert.Equal(t, p.wait(), 0)
	p.assertNoFiles()
}

// TestKubernetesManifest: the probes use /healthz, the preStop hook puts
// natsd in lame duck through its PID file, and the grace period covers the
// drain configured in the same manifest.
func TestKubernetesManifest(t *testing.T) {
	y := readDeploy(t, "kubernetes.yaml")
	// The config file embedded in the ConfigMap, as natsd reads it.
	var conf []string
	in := false
	for _, l := range strings.Split(y, "\n") {
		switch {
		case strings.HasSuffix(l, "natsd.conf: |"):
			in = true
		case in && strings.HasPrefix(l, "    "):
			conf = append(conf, strings.TrimPrefix(l, "    "))
		default:
			in = false
		}
	}
	path := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(path, []byte(strings.Join(conf, "\n")), 0o644))
	var st settings
	warnings, err := loadConfig(path, &st)
	assert.NilError(t, err)
	assert.Equal(t, len(warnings), 0, "%v", warnings)
	o := st.Server
	o.SetDefaults()
	assert.NilError(t, o.Validate())

	m := regexp.MustCompile(`terminationGracePeriodSeconds: (\d+)`).FindStringSubmatch(y)
	assert.Assert(t, m != nil)
	grace, _ := strconv.Atoi(m[1])
	need := o.LameDuckDuration + o.ShutdownTimeout
	assert.Assert(t, time.Duration(grace)*time.Second >= need, "terminationGracePeriodSeconds %d < lame_duck_duration + shutdown_timeout = %v", grace, need)
	assert.Assert(t, strings.Contains(y, "path: /healthz"))
	assert.Assert(t, strings.Contains(y, "natsd --signal ldm="+o.PidFile), "preStop must signal ldm through the pid_file %s", o.PidFile)
	assert.Equal(t, o.HTTPPort, 8222)
}

// TestLogrotateSnippet runs logrotate with the snippet against a natsd
// logging to a file: the file is rotated and natsd continues in a new one.
func TestLogrotateSnippet(t *testing.T) {
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		t.Skip("logrotate is not installed (Debian package logrotate; .ci/run installs it when it can)")
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "natsd.log")
	p := startNatsd(t, "-l", logFile)
	snippet := readDeploy(t, "logrotate.conf")
	snippet = strings.ReplaceAll(snippet, "/var/log/natsd/natsd.log", logFile)
	snippet = strings.ReplaceAll(snippet, "/usr/local/bin/natsd", natsdBin)
	snippet = strings.ReplaceAll(snippet, "/run/natsd/natsd.pid", p.pidFile)
	conf := filepath.Join(dir, "logrotate.conf")
	assert.NilError(t, os.WriteFile(conf, []byte(snippet), 0o644))
	out, err := exec.Command(logrotate, "-f", "-s", filepath.Join(dir, "state"), conf).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	p.waitLogFile(logFile, "Log file reopened")
	old, err := os.ReadFile(logFile + ".1")
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(old), "Server is ready"))
	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)
}

// TestSystemdSocketUnit: natsd.socket hands the client socket to
// natsd.service under the name natsd takes it by; it verifies beside the
// service; and natsd, given a socket as the unit describes it (its
// FileDescriptorName, a port of the test's in place of 4222), serves on
// it.
func TestSystemdSocketUnit(t *testing.T) {
	unit := readDeploy(t, "natsd.socket")
	assert.Equal(t, unitLine(t, unit, "ListenStream"), "4222")
	assert.Equal(t, unitLine(t, unit, "FileDescriptorName"), "client")
	assert.Equal(t, unitLine(t, unit, "Service"), "natsd.service")
	assert.Equal(t, unitLine(t, unit, "WantedBy"), "sockets.target")

	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		dir := t.TempDir()
		service := strings.ReplaceAll(readDeploy(t, "natsd-systemd252.service"), "/usr/local/bin/natsd", natsdBin)
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "natsd.service"), []byte(service), 0o644))
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "natsd.socket"), []byte(unit), 0o644))
		out, err := exec.Command(analyze, "verify", filepath.Join(dir, "natsd.socket")).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		assert.Equal(t, strings.TrimSpace(string(out)), "")
	} else {
		t.Log("systemd-analyze is not installed: natsd.socket not verified")
	}

	sock, port := systemdSocket(t)
	p := activated(t, sock, unitLine(t, unit, "FileDescriptorName"), "-p", strconv.Itoa(port))
	p.waitLog("Server is ready")
	nc, err := nats.Connect("nats://127.0.0.1:"+strconv.Itoa(port), nats.NoReconnect())
	assert.NilError(t, err)
	nc.Close()
	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)
}

// TestNotifyAcrossUpgrade: under systemd (NotifyAccess=all), the new
// process of an upgrade reports READY=1 with its own MAINPID; the old one
// confirms MAINPID= the new PID and then says nothing more (no STOPPING=1
// for its drain, which is no stop of the service); the new process pings
// the watchdog.
func TestNotifyAcrossUpgrade(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "400000")
	u := startUpgradable(t, "lame_duck_duration: 1s\nlame_duck_grace_period: 200ms\n")
	old := u.pid()
	assert.Equal(t, msgs.next(t, "READY=1"), "READY=1\nMAINPID="+strconv.Itoa(old)+"\nSTATUS=listening, 0 clients")
	nc, err := nats.Connect("nats://"+u.clientAddr(old), reconnecting()...)
	assert.NilError(t, err)
	defer nc.Close()
	pid := u.upgrade()
	assert.Equal(t, msgs.next(t, "READY=1"), "READY=1\nMAINPID="+strconv.Itoa(pid)+"\nSTATUS=listening, 0 clients")
	assert.Equal(t, msgs.next(t, "MAINPID="), "MAINPID="+strconv.Itoa(pid)+"\nSTATUS=handed over to PID "+strconv.Itoa(pid))
	assert.Equal(t, u.waitExit(old, 20*time.Second), 0)
	for _, m := range msgs.all() {
		assert.Assert(t, !strings.Contains(m, "STOPPING=1"), "a STOPPING=1 during the upgrade: %q", m)
	}
	assert.Assert(t, strings.Contains(msgs.next(t, "STATUS="), "WATCHDOG=1"))
	syscall.Kill(pid, syscall.SIGUSR2)
	assert.Assert(t, strings.Contains(msgs.next(t, "STOPPING=1"), "\nEXTEND_TIMEOUT_USEC="))
	assert.Equal(t, u.waitExit(pid, 20*time.Second), 0)
}

// notifyMsgs are the datagrams received on a notify socket.
type notifyMsgs struct {
	ch   chan string
	seen []string
}

// notifySocket listens on a notify socket named by NOTIFY_SOCKET for the
// rest of the test.
func notifySocket(t *testing.T) *notifyMsgs {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	assert.NilError(t, err)
	m := &notifyMsgs{ch: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := l.Read(buf)
			if err != nil {
				return
			}
			m.ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	t.Setenv("NOTIFY_SOCKET", sock)
	return m
}

// next returns the next message starting with prefix, skipping others.
func (m *notifyMsgs) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case s := <-m.ch:
			m.seen = append(m.seen, s)
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-timeout:
			t.Fatalf("no message starting with %q; got %q", prefix, m.seen)
		}
	}
}

// all returns every message received so far.
func (m *notifyMsgs) all() []string {
	for {
		select {
		case s := <-m.ch:
			m.seen = append(m.seen, s)
		default:
			return m.seen
		}
	}
}
