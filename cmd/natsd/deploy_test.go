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
