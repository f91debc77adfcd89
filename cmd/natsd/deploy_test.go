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

func TestSystemdUnitDirectives(t *testing.T) {
	unit := readDeploy(t, "natsd.service")
	for _, want := range []string{
		"Type=notify-reload",
		"ExecReload=/usr/local/bin/natsd --signal reload=/run/natsd/natsd.pid",
		"KillSignal=SIGUSR2",
		"WatchdogSec=",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"DynamicUser=yes",
		"RuntimeDirectory=natsd",
	} {
		assert.Assert(t, strings.Contains(unit, "\n"+want), "natsd.service lacks %q", want)
	}
	assert.Assert(t, strings.Contains(unit, "\nExecStart=/usr/local/bin/natsd -c /etc/natsd/natsd.conf -P /run/natsd/natsd.pid"))
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit (with the
// test's natsd binary in place of /usr/local/bin/natsd). systemd before 253
// does not know Type=notify-reload: there the only message allowed is that
// one, and the unit with Type=notify must verify with no message at all.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd); the unit is checked by TestSystemdUnitDirectives only")
	}
	out, _ := exec.Command(analyze, "--version").Output()
	m := regexp.MustCompile(`systemd (\d+)`).FindSubmatch(out)
	assert.Assert(t, m != nil, "systemd-analyze --version: %s", out)
	version, _ := strconv.Atoi(string(m[1]))
	unit := strings.ReplaceAll(readDeploy(t, "natsd.service"), "/usr/local/bin/natsd", natsdBin)
	verify := func(body string) string {
		p := filepath.Join(t.TempDir(), "natsd.service")
		assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
		out, err := exec.Command(analyze, "verify", p).CombinedOutput()
		assert.NilError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	got := verify(unit)
	if version >= 253 {
		assert.Equal(t, got, "", "systemd %d", version)
	} else {
		t.Logf("systemd %d predates Type=notify-reload (253): %s", version, got)
		assert.Assert(t, got == "" || strings.HasSuffix(got, "Failed to parse service type, ignoring: notify-reload"), got)
		assert.Equal(t, verify(strings.Replace(unit, "\nType=notify-reload", "\nType=notify", 1)), "")
	}
}

// TestNotifyFromEnvironment: the built binary, started as systemd starts a
// Type=notify-reload service, reports READY with its PID, a reload, pings
// the watchdog and reports STOPPING when told to drain.
func TestNotifyFromEnvironment(t *testing.T) {
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
	p.signal(syscall.SIGHUP)
	assert.Assert(t, strings.Contains(next("RELOADING=1"), "\nMONOTONIC_USEC="))
	next("READY=1")
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
