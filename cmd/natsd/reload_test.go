package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// infoMaxPayload connects with a raw socket and returns max_payload from
// the INFO line.
func infoMaxPayload(t *testing.T, url string) int {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
	assert.NilError(t, err)
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	assert.NilError(t, err)
	var info struct {
		MaxPayload int `json:"max_payload"`
	}
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &info))
	return info.MaxPayload
}

func TestReload(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "natsd.conf")
	write := func(body string) { assert.NilError(t, os.WriteFile(conf, []byte(body), 0o644)) }
	write("max_payload: 1024\n")
	p := startNatsd(t, "-c", conf)
	url := p.url()
	assert.Equal(t, infoMaxPayload(t, url), 1024)

	// Applied: max_payload and debug.
	write("max_payload: 2048\ndebug: true\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("listening -> listening (event reload, cause: signal SIGHUP)")
	// The log names what changed, as nats-server's does, the command's
	// own logging settings included.
	p.waitLog("Reloaded: max_payload = 2048")
	p.waitLog("Reloaded: debug = true")
	assert.Equal(t, infoMaxPayload(t, url), 2048)
	nc, err := nats.Connect(url, nats.NoReconnect(), nats.Name("after-reload"))
	assert.NilError(t, err)
	assert.NilError(t, nc.Flush())
	nc.Close()
	p.waitLog(`[DBG] `)
	p.waitLog(`name="after-reload"`)

	// Rejected: server_name cannot change live (nor can port; startNatsd
	// gives -p on the command line, which wins over the file). The server
	// keeps serving with the old options.
	write("max_payload: 4096\ndebug: true\nserver_name: renamed\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reload failed, keeping the running configuration: reload rejected: cannot change server_name")
	assert.Equal(t, infoMaxPayload(t, url), 2048)

	// Rejected: garbage.
	write("max_payload: {{{ nonsense\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reload failed, keeping the running configuration: config file " + conf)
	assert.Equal(t, infoMaxPayload(t, url), 2048)

	// Rejected: a key natsd does not implement, as at start.
	write("max_payload: 5000\njetstream: enabled\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reload failed, keeping the running configuration: " + conf + ":2: jetstream is not supported by natsd")
	write("max_payload: 5000\nfancy: 1\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reload failed, keeping the running configuration: " + conf + ":2: unknown field \"fancy\"")
	assert.Equal(t, infoMaxPayload(t, url), 2048)

	// --signal reload works too.
	write("max_payload: 3000\n")
	code, out := runNatsd(t, "--signal", "reload="+strconv.Itoa(p.cmd.Process.Pid))
	assert.Equal(t, code, 0, out)
	p.waitLog("cause: signal SIGHUP): max_payload = 3000, debug = false")
	assert.Equal(t, infoMaxPayload(t, url), 3000)

	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)
}

// TestReloadMovesFiles: a reload that changes pid_file and ports_file_dir
// writes the files at the new places and removes the old ones.
func TestReloadMovesFiles(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	conf := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("pid_file: \""+filepath.Join(a, "natsd.pid")+"\"\nports_file_dir: \""+a+"\"\n"), 0o644))
	cmd := startNatsdPlain(t, "-a", "127.0.0.1", "-p", "-1", "-c", conf)
	portsA := filepath.Join(a, "natsd_"+strconv.Itoa(cmd.cmd.Process.Pid)+".ports")
	cmd.waitFile(portsA)
	assert.NilError(t, os.WriteFile(conf, []byte("pid_file: \""+filepath.Join(b, "natsd.pid")+"\"\nports_file_dir: \""+b+"\"\n"), 0o644))
	cmd.signal(syscall.SIGHUP)
	portsB := filepath.Join(b, "natsd_"+strconv.Itoa(cmd.cmd.Process.Pid)+".ports")
	cmd.waitFile(portsB)
	cmd.waitFile(filepath.Join(b, "natsd.pid"))
	cmd.waitLog("event reload")
	entries, _ := os.ReadDir(a)
	assert.Equal(t, len(entries), 0, "old files left in %s", a)
	cmd.signal(syscall.SIGTERM)
	assert.Equal(t, cmd.wait(), 0)
	entries, _ = os.ReadDir(b)
	assert.Equal(t, len(entries), 0, "files left in %s", b)
}

// TestLogReopen: with the log file moved away and SIGUSR1 sent while
// clients connect, every log line appears exactly once across the two
// files.
func TestLogReopen(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "natsd.log")
	p := startNatsd(t, "-l", logFile, "-D")
	url := p.url()
	const clients = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range clients {
			nc, err := nats.Connect(url, nats.NoReconnect())
			if err != nil {
				t.Error(err)
				return
			}
			nc.Flush()
			nc.Close()
		}
	}()
	// Rotate while the clients come and go.
	p.waitLogFile(logFile, "cid:20 ")
	assert.NilError(t, os.Rename(logFile, logFile+".1"))
	p.signal(syscall.SIGUSR1)
	<-done
	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)

	old, err := os.ReadFile(logFile + ".1")
	assert.NilError(t, err)
	cur, err := os.ReadFile(logFile)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(cur), "Log file reopened"), string(cur))
	all := string(old) + string(cur)
	for cid := 1; cid <= clients; cid++ {
		needle := " - cid:" + strconv.Itoa(cid) + " - Client connection created"
		assert.Equal(t, strings.Count(all, needle), 1, "cid %d", cid)
	}
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(all), "\n") {
		seen[l]++
	}
	for l, n := range seen {
		assert.Equal(t, n, 1, "line written %d times: %s", n, l)
	}
}

// TestReloadRejectsPortChange: a reload that changes port is refused with
// a message naming it, and the old port keeps serving.
func TestReloadRejectsPortChange(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("listen: 127.0.0.1:"+strconv.Itoa(port)+"\n"), 0o644))
	p := startNatsdPlain(t, "-c", conf)
	p.waitLog("Server is ready")
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	assert.Equal(t, infoMaxPayload(t, url), 1024*1024)
	assert.NilError(t, os.WriteFile(conf, []byte("listen: 127.0.0.1:"+strconv.Itoa(port+1)+"\n"), 0o644))
	p.signal(syscall.SIGHUP)
	p.waitLog("reload rejected: cannot change port (" + strconv.Itoa(port) + " -> " + strconv.Itoa(port+1) + ")")
	assert.Equal(t, infoMaxPayload(t, url), 1024*1024)
	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)
}
