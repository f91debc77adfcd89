package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// upgradeConf is the config of the upgrade tests: a lame duck short enough
// for a test and long enough to see the old process drain.
const upgradeConf = "lame_duck_duration: 3s\nlame_duck_grace_period: 500ms\n"

// reconnecting are nats.go's options of the clients moved by an upgrade:
// they keep reconnecting, to the one URL they know.
func reconnecting(opts ...nats.Option) []nats.Option {
	return append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond), nats.Timeout(5 * time.Second)}, opts...)
}

// TestUpgradeUnderLoad is issue 15's proof. A prober dials the client port
// every millisecond from before `natsd --signal upgrade` until after the
// old process exited: no dial is refused, every one gets an INFO. 50
// nats.go clients end up on the new process (another server_id); the old
// process exits 0 within its lame-duck window; the PID file holds the new
// PID and each process wrote and removed its own ports file. Publishers
// and subscribers keep working through it; the messages lost while a pair
// sat on different processes are counted and reported.
func TestUpgradeUnderLoad(t *testing.T) {
	u := startUpgradable(t, upgradeConf)
	old := u.pid()
	addr := u.clientAddr(old)
	url := "nats://" + addr

	var clients []*nats.Conn
	for range 50 {
		nc, err := nats.Connect(url, reconnecting()...)
		assert.NilError(t, err)
		defer nc.Close()
		clients = append(clients, nc)
	}
	oldID := clients[0].ConnectedServerId()

	// Two publisher/subscriber pairs: one with nats.go's defaults, one
	// whose clients reconnect at once on the lame-duck INFO.
	plain := startPair(t, url, "plain")
	force := startPair(t, url, "force", nats.LameDuckModeHandler(func(nc *nats.Conn) { nc.ForceReconnect() }))

	probe := probeClients(addr)
	began := time.Now()
	pid := u.upgrade()
	handed := time.Now()
	assert.Equal(t, u.waitExit(old, 20*time.Second), 0, u.log())
	exited := time.Since(began)
	t.Logf("upgrade: new process ready after %v, old process exited %v after the signal", handed.Sub(began), exited)
	assert.Assert(t, exited < 3*time.Second+handed.Sub(began)+time.Second, "the old process took %v (lame_duck_duration 3s)", exited)

	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for i, nc := range clients {
			if !nc.IsConnected() || nc.ConnectedServerId() == oldID {
				return poll.Continue("client %d is on %q", i, nc.ConnectedServerId())
			}
		}
		return poll.Success()
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
	newID := clients[0].ConnectedServerId()
	assert.Assert(t, newID != oldID)
	for _, nc := range clients {
		assert.Equal(t, nc.ConnectedServerId(), newID)
	}
	time.Sleep(100 * time.Millisecond) // probe a little past the exit (pacing, not waiting)
	probe.finish(t, "client dials")

	plain.finish(t, newID)
	force.finish(t, newID)

	assert.Equal(t, u.pid(), pid)
	_, err := os.Stat(u.portsFile(old))
	assert.Assert(t, os.IsNotExist(err), "the old process left its ports file")
	assert.Equal(t, u.clientAddr(pid), addr)
	assert.Assert(t, strings.Contains(u.log(), fmt.Sprintf("[%d] ", pid)) && strings.Contains(u.log(), "(event start, cause: inherited sockets from PID "+strconv.Itoa(old)+")"), u.log())

	syscall.Kill(pid, syscall.SIGINT)
	assert.Equal(t, u.waitExit(pid, 20*time.Second), 0)
	entries, err := os.ReadDir(u.dir)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0, "left behind: %v", entries)
}

// TestUpgradeTwiceWithMonitoring: two upgrades in a row with a monitoring
// port; no /healthz request and no client dial is refused or fails from
// before the first until after the second old process exited.
func TestUpgradeTwiceWithMonitoring(t *testing.T) {
	u := startUpgradable(t, "lame_duck_duration: 1s\nlame_duck_grace_period: 200ms\n", "-m", "-1")
	first := u.pid()
	addr := u.clientAddr(first)
	mon := u.ports(first).Monitoring[0]
	nc, err := nats.Connect("nats://"+addr, reconnecting()...)
	assert.NilError(t, err)
	defer nc.Close()

	clients, health := probeClients(addr), probeHealthz(mon)
	second := u.upgrade()
	assert.Equal(t, u.waitExit(first, 20*time.Second), 0)
	assert.Equal(t, u.ports(second).Monitoring[0], mon)
	third := u.upgrade()
	assert.Equal(t, u.waitExit(second, 20*time.Second), 0)
	time.Sleep(100 * time.Millisecond) // probe a little past the exit (pacing)
	health.finish(t, "GET /healthz")
	clients.finish(t, "client dials")
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if nc.IsConnected() {
			return poll.Success()
		}
		return poll.Continue("client not reconnected")
	}, poll.WithTimeout(20*time.Second))
	assert.Equal(t, u.pid(), third)
	syscall.Kill(third, syscall.SIGTERM)
	assert.Equal(t, u.waitExit(third, 20*time.Second), 0)
}

// TestUpgradeFailureChangesNothing: a broken config file, a new binary
// that exits, one that is no executable, one that never gets ready: each
// upgrade fails with the reason printed by `--signal upgrade`, the old
// process serves on (its client keeps its connection, new dials get its
// INFO), the PID file still holds its PID and no other process or file is
// left. Then a good one succeeds, running the file now at natsd's path.
func TestUpgradeFailureChangesNothing(t *testing.T) {
	u := startUpgradable(t, upgradeConf+"upgrade_timeout: 1s\n")
	old := u.pid()
	addr := u.clientAddr(old)
	nc, err := nats.Connect("nats://"+addr, nats.NoReconnect())
	assert.NilError(t, err)
	defer nc.Close()
	id := nc.ConnectedServerId()
	newPID := regexp.MustCompile(`new process \(PID (\d+)\)`)

	for _, tc := range []struct {
		name   string
		break_ func()
		want   string
	}{
		{"broken config", func() { assert.NilError(t, os.WriteFile(u.conf, []byte("port: [\n"), 0o644)) },
			`^natsd: upgrade failed: new process \(PID \d+\): config file .*natsd.conf: `},
		{"binary exits", func() { u.installScript("exit 3") },
			`^natsd: upgrade failed: new process \(PID \d+\) exited before it was ready: exit status 3$`},
		{"not an executable", func() { assert.NilError(t, os.WriteFile(u.bin, []byte("garbage"), 0o755)) },
			`^natsd: upgrade failed: start .*/bin/natsd: exec format error$`},
		{"never ready", func() { u.installScript("exec sleep 60") },
			`^natsd: upgrade failed: new process \(PID \d+\) not ready within upgrade_timeout \(1s\)$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_()
			code, out := u.signal("upgrade")
			out = strings.TrimSpace(out)
			assert.Equal(t, code, 1, out)
			assert.Assert(t, regexp.MustCompile(tc.want).MatchString(out), "%s", out)
			if m := newPID.FindStringSubmatch(out); m != nil {
				child, _ := strconv.Atoi(m[1])
				u.saw(child)
				assert.Assert(t, !alive(child), "the new process %d is still there", child)
			}
			assert.DeepEqual(t, childrenOf(old), []int(nil))
			assert.Equal(t, u.pid(), old)
			entries, err := os.ReadDir(u.dir)
			assert.NilError(t, err)
			assert.Equal(t, len(entries), 2, "want the PID file and the old ports file: %v", entries)
			assert.NilError(t, nc.Flush())
			c := connectOnce(t, addr)
			assert.Equal(t, c.ConnectedServerId(), id)
			c.Close()
			assert.Assert(t, strings.Contains(u.log(), "[ERR] upgrade failed: "))
		})
	}

	// Repaired, with a new file at natsd's path: this one takes over.
	assert.NilError(t, os.WriteFile(u.conf, []byte(upgradeConf), 0o644))
	marker := u.root + "/new-binary-ran"
	u.installScript(fmt.Sprintf("touch %s\nexec %s \"$@\"", marker, natsdBin))
	pid := u.upgrade()
	_, err = os.Stat(marker)
	assert.NilError(t, err, "the upgrade did not run the file now at natsd's path")
	assert.Equal(t, u.waitExit(old, 20*time.Second), 0)
	syscall.Kill(pid, syscall.SIGINT)
	assert.Equal(t, u.waitExit(pid, 20*time.Second), 0)
}

// TestUpgradeRefusedInLameDuck: an upgrade asked for in lame duck is
// refused naming the state, and --signal upgrade says so.
func TestUpgradeRefusedInLameDuck(t *testing.T) {
	u := startUpgradable(t, "lame_duck_duration: 30s\nlame_duck_grace_period: 10s\n")
	old := u.pid()
	nc, err := nats.Connect("nats://"+u.clientAddr(old), nats.NoReconnect())
	assert.NilError(t, err)
	defer nc.Close()
	code, out := u.signal("ldm")
	assert.Equal(t, code, 0, out)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(u.log(), "-> lame_duck") {
			return poll.Success()
		}
		return poll.Continue("not in lame duck yet")
	}, poll.WithTimeout(20*time.Second))
	code, out = u.signal("upgrade")
	assert.Equal(t, code, 1, out)
	assert.Equal(t, strings.TrimSpace(out), "natsd: upgrade refused: the server is lame_duck")
	assert.DeepEqual(t, childrenOf(old), []int(nil))
	syscall.Kill(old, syscall.SIGINT)
	assert.Equal(t, u.waitExit(old, 20*time.Second), 0)
}

// connectOnce connects a client without reconnects.
func connectOnce(t *testing.T, addr string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect("nats://"+addr, nats.NoReconnect(), nats.Timeout(5*time.Second))
	assert.NilError(t, err)
	return nc
}

// pair is a publisher sending a numbered message every 2 ms to a
// subscriber, both through the upgrade.
type pair struct {
	name                string
	pub, sub            *nats.Conn
	published, received atomic.Int64
	last                atomic.Int64
	stop, done          chan struct{}
}

func startPair(t *testing.T, url, name string, opts ...nats.Option) *pair {
	t.Helper()
	p := &pair{name: name, stop: make(chan struct{}), done: make(chan struct{})}
	subject := "upgrade.pair." + name
	var err error
	p.sub, err = nats.Connect(url, reconnecting(opts...)...)
	assert.NilError(t, err)
	t.Cleanup(p.sub.Close)
	_, err = p.sub.Subscribe(subject, func(m *nats.Msg) {
		p.received.Add(1)
		n, _ := strconv.ParseInt(string(m.Data), 10, 64)
		p.last.Store(n)
	})
	assert.NilError(t, err)
	assert.NilError(t, p.sub.Flush())
	p.pub, err = nats.Connect(url, reconnecting(opts...)...)
	assert.NilError(t, err)
	t.Cleanup(p.pub.Close)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				n := p.published.Add(1)
				p.pub.Publish(subject, []byte(strconv.FormatInt(n, 10)))
			}
		}
	}()
	return p
}

// finish waits for both clients to be on the server newID, checks that a
// message published there arrives, and reports what was lost.
func (p *pair) finish(t *testing.T, newID string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if p.sub.ConnectedServerId() == newID && p.pub.ConnectedServerId() == newID {
			return poll.Success()
		}
		return poll.Continue("%s: pub on %q, sub on %q", p.name, p.pub.ConnectedServerId(), p.sub.ConnectedServerId())
	}, poll.WithTimeout(20*time.Second))
	assert.NilError(t, p.sub.Flush())
	close(p.stop)
	<-p.done
	final := p.published.Add(1)
	assert.NilError(t, p.pub.Publish("upgrade.pair."+p.name, []byte(strconv.FormatInt(final, 10))))
	assert.NilError(t, p.pub.Flush())
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if p.last.Load() == final {
			return poll.Success()
		}
		return poll.Continue("%s: last received %d of %d", p.name, p.last.Load(), final)
	}, poll.WithTimeout(10*time.Second))
	pub, got := p.published.Load(), p.received.Load()
	t.Logf("pair %s (every 2 ms): %d published, %d received, %d lost (%.1f%%) while publisher and subscriber were on different processes",
		p.name, pub, got, pub-got, 100*float64(pub-got)/float64(pub))
}

// TestUpgradeInCluster: natsd upgraded while in a cluster with a
// nats-server node. The nats-server keeps natsd's client URL in the
// connect_urls it sends its clients throughout: the old process sends no
// route INFO with "ldm":true, so its route's close only takes the URL's
// count from two (old and new process) to one.
func TestUpgradeInCluster(t *testing.T) {
	ns := startClusterNatsServer(t)
	u := startUpgradable(t, fmt.Sprintf("lame_duck_duration: 2s\nlame_duck_grace_period: 300ms\ncluster {\n  name: c1\n  listen: \"127.0.0.1:-1\"\n  routes: [\"nats-route://%s\"]\n}\n", ns.cluster))
	old := u.pid()
	natsdURL := u.clientAddr(old)
	nc, err := nats.Connect("nats://"+natsdURL, reconnecting()...)
	assert.NilError(t, err)
	defer nc.Close()

	// A protocol-1 client of nats-server, reading every INFO it is sent.
	wc, err := net.Dial("tcp", ns.client)
	assert.NilError(t, err)
	defer wc.Close()
	_, err = wc.Write([]byte("CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n"))
	assert.NilError(t, err)
	infos := make(chan []string, 64)
	readerDone := make(chan struct{})
	defer func() { wc.Close(); <-readerDone }()
	go func() {
		defer close(readerDone)
		r := bufio.NewReader(wc)
		for {
			wc.SetReadDeadline(time.Now().Add(60 * time.Second))
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if rest, ok := strings.CutPrefix(line, "INFO "); ok {
				var info struct {
					ConnectURLs []string `json:"connect_urls"`
				}
				if json.Unmarshal([]byte(rest), &info) == nil {
					select {
					case infos <- info.ConnectURLs:
					default: // the test stopped reading
					}
				}
			} else if strings.HasPrefix(line, "PING") {
				wc.Write([]byte("PONG\r\n"))
			}
		}
	}()
	advertised := func(urls []string) bool {
		for _, x := range urls {
			if x == natsdURL {
				return true
			}
		}
		return false
	}
	timeout := time.After(20 * time.Second)
	for seen := false; !seen; {
		select {
		case urls := <-infos:
			seen = advertised(urls)
		case <-timeout:
			t.Fatalf("nats-server never advertised natsd's %s", natsdURL)
		}
	}

	pid := u.upgrade()
	assert.Equal(t, u.waitExit(old, 20*time.Second), 0)
	// The new process's route is up: nats-server lists it.
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(u.log(), fmt.Sprintf("[%d] ", pid)) && strings.Count(u.log(), "Route state handshaking -> active") >= 2 {
			return poll.Success()
		}
		return poll.Continue("the new process's route is not active")
	}, poll.WithTimeout(20*time.Second))
	n := 0
	for done := false; !done; {
		select {
		case urls := <-infos:
			n++
			assert.Assert(t, advertised(urls), "nats-server dropped natsd's %s from connect_urls: %v", natsdURL, urls)
		case <-time.After(500 * time.Millisecond):
			done = true // quiet: no INFO is under way (pacing, not waiting for an event)
		}
	}
	t.Logf("nats-server sent %d INFO(s) during the upgrade, each advertising natsd's %s", n, natsdURL)
	syscall.Kill(pid, syscall.SIGINT)
	assert.Equal(t, u.waitExit(pid, 20*time.Second), 0)
}

// clusterNatsServer is a nats-server v2.15.2 node of cluster c1.
type clusterNatsServer struct{ client, cluster string }

func startClusterNatsServer(t *testing.T) clusterNatsServer {
	t.Helper()
	bin := tools.ForTest(t, tools.NatsServer)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	assert.NilError(t, os.WriteFile(conf, []byte(fmt.Sprintf("server_name: ns\nhost: 127.0.0.1\nport: -1\nports_file_dir: %q\ncluster {\n  name: c1\n  listen: \"127.0.0.1:-1\"\n}\n", dir)), 0o644))
	cmd := exec.Command(bin, "-c", conf)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	assert.NilError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("nats-server output:\n%s", out.String())
		}
	})
	var ports struct{ Nats, Cluster []string }
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		b, err := os.ReadFile(portsFile)
		if err != nil || json.Unmarshal(b, &ports) != nil || len(ports.Cluster) == 0 {
			return poll.Continue("waiting for nats-server's ports file")
		}
		return poll.Success()
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
	return clusterNatsServer{client: strings.TrimPrefix(ports.Nats[0], "nats://"), cluster: strings.TrimPrefix(ports.Cluster[0], "nats://")}
}
