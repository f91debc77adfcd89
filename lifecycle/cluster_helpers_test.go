package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/tools"
	"github.com/sirupsen/logrus"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Helpers of the cluster tests: real nats-server v2.15.2 nodes as child
// processes and natsd servers in this process, all on 127.0.0.1 with random
// ports.

// logBuffer collects a natsd server's log for the test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count returns how many lines contain s.
func (l *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// clusterNatsd is a natsd server of a test cluster.
type clusterNatsd struct {
	*Server
	name string
	logs *logBuffer
}

// startClusterNatsd starts natsd named name in cluster c1 (or the
// cluster mod sets) with routes to the given route URLs.
func startClusterNatsd(t *testing.T, name string, routes []string, mod func(*Options)) *clusterNatsd {
	t.Helper()
	logs := &logBuffer{}
	log := logrus.New()
	log.SetOutput(logs)
	log.SetLevel(logrus.DebugLevel)
	log.SetFormatter(&logrus.TextFormatter{DisableQuote: true})
	o := &Options{
		Host: "127.0.0.1", Port: RandomPort, ServerName: name, HTTPPort: RandomPort,
		Cluster: ClusterOptions{Name: "c1", Host: "127.0.0.1", Port: RandomPort, Routes: routes},
	}
	if mod != nil {
		mod(o)
	}
	s, err := New(o, Deps{Log: log})
	assert.NilError(t, err)
	assert.NilError(t, s.Start())
	n := &clusterNatsd{Server: s, name: name, logs: logs}
	t.Cleanup(func() {
		s.Shutdown()
		if t.Failed() {
			t.Logf("natsd %s log:\n%s", name, logs.String())
		}
	})
	return n
}

func (n *clusterNatsd) Name() string { return n.name }

func (n *clusterNatsd) clientURL() string { return n.ClientURL() }

// routeURL is what another server lists in its routes to reach n.
func (n *clusterNatsd) routeURL() string { return n.ClusterURL() }

// remoteNames lists the names of the servers n has an active route to.
func (n *clusterNatsd) remoteNames() []string {
	var names []string
	for _, r := range n.Cluster().Routes() {
		names = append(names, r.RemoteName)
	}
	return uniqueSorted(names)
}

// routez reads n's /routez over HTTP.
func (n *clusterNatsd) routez(t *testing.T) routezBody {
	t.Helper()
	return getRoutez(t, n.Ports().Monitoring[0])
}

// natsServer is a nats-server child process.
type natsServer struct {
	t      *testing.T
	bin    string
	name   string
	dir    string
	conf   string
	cmd    *exec.Cmd
	out    *logBuffer
	exited chan struct{}
	// The bound ports, read from the ports file.
	clientPort, clusterPort, httpPort int
}

// startNatsServer runs nats-server named name in cluster c1 with routes to
// the given URLs. clusterPort 0 asks for a random port; extra is added to
// the config file as is.
func startNatsServer(t *testing.T, name string, clusterPort int, routes []string, extra string) *natsServer {
	t.Helper()
	ns := &natsServer{t: t, bin: tools.ForTest(t, tools.NatsServer), name: name, dir: t.TempDir()}
	port := "-1"
	if clusterPort != 0 {
		port = strconv.Itoa(clusterPort)
	}
	var rs []string
	for _, r := range routes {
		rs = append(rs, strconv.Quote(r))
	}
	ns.conf = filepath.Join(ns.dir, name+".conf")
	conf := fmt.Sprintf(`server_name: %s
host: 127.0.0.1
port: -1
http: "127.0.0.1:-1"
ports_file_dir: %q
cluster {
  name: c1
  listen: "127.0.0.1:%s"
  routes: [%s]
}
%s
`, name, ns.dir, port, strings.Join(rs, ", "), extra)
	assert.NilError(t, os.WriteFile(ns.conf, []byte(conf), 0o644))
	ns.start()
	t.Cleanup(func() {
		ns.kill()
		if t.Failed() {
			t.Logf("nats-server %s log:\n%s", name, ns.out.String())
		}
	})
	return ns
}

// start runs the process and waits for its ports file.
func (ns *natsServer) start() {
	ns.t.Helper()
	ns.out = &logBuffer{}
	ns.exited = make(chan struct{})
	ns.cmd = exec.Command(ns.bin, "-c", ns.conf, "-D")
	ns.cmd.Stdout, ns.cmd.Stderr = ns.out, ns.out
	assert.NilError(ns.t, ns.cmd.Start())
	exited := ns.exited
	cmd := ns.cmd
	go func() {
		cmd.Wait()
		close(exited)
	}()
	portsFile := filepath.Join(ns.dir, fmt.Sprintf("nats-server_%d.ports", ns.cmd.Process.Pid))
	var ports Ports
	poll.WaitOn(ns.t, func(poll.LogT) poll.Result {
		select {
		case <-exited:
			return poll.Error(fmt.Errorf("nats-server %s exited:\n%s", ns.name, ns.out.String()))
		default:
		}
		b, err := os.ReadFile(portsFile)
		if err != nil || json.Unmarshal(b, &ports) != nil || len(ports.Cluster) == 0 {
			return poll.Continue("waiting for %s", portsFile)
		}
		return poll.Success()
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
	ns.clientPort, ns.clusterPort, ns.httpPort = urlPort(ports.Nats[0]), urlPort(ports.Cluster[0]), urlPort(ports.Monitoring[0])
}

func urlPort(u string) int {
	_, p, _ := net.SplitHostPort(u[strings.LastIndex(u, "/")+1:])
	n, _ := strconv.Atoi(p)
	return n
}

// kill ends the process with SIGKILL, if it still runs.
func (ns *natsServer) kill() {
	select {
	case <-ns.exited:
	default:
		ns.cmd.Process.Kill()
		<-ns.exited
	}
}

func (ns *natsServer) signal(sig syscall.Signal) {
	ns.t.Helper()
	assert.NilError(ns.t, ns.cmd.Process.Signal(sig))
}

func (ns *natsServer) clientURL() string {
	return fmt.Sprintf("nats://127.0.0.1:%d", ns.clientPort)
}

func (ns *natsServer) routeURL() string {
	return fmt.Sprintf("nats-route://127.0.0.1:%d", ns.clusterPort)
}

func (ns *natsServer) routez(t *testing.T) routezBody {
	t.Helper()
	return getRoutez(t, fmt.Sprintf("http://127.0.0.1:%d", ns.httpPort))
}

// remoteNames lists the servers ns has a route to (nats-server lists one
// entry per pooled connection: names are deduplicated).
func (ns *natsServer) remoteNames() []string {
	var names []string
	for _, r := range ns.routez(ns.t).Routes {
		names = append(names, r.RemoteName)
	}
	return uniqueSorted(names)
}

// routezBody is the part of /routez the tests read.
type routezBody struct {
	Name      string `json:"server_name"`
	NumRoutes int    `json:"num_routes"`
	Routes    []struct {
		RemoteName   string `json:"remote_name"`
		DidSolicit   bool   `json:"did_solicit"`
		IsConfigured bool   `json:"is_configured"`
		Compression  string `json:"compression"`
		NumSubs      int    `json:"subscriptions"`
	} `json:"routes"`
}

func getRoutez(t *testing.T, base string) routezBody {
	t.Helper()
	resp, err := http.Get(base + "/routez")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var rz routezBody
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&rz))
	return rz
}

func uniqueSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// meshNode is a node of a test cluster, natsd or nats-server.
type meshNode interface {
	Name() string
	remoteNames() []string
}

func (ns *natsServer) Name() string { return ns.name }

// waitMesh waits until every node has a route to every other one.
func waitMesh(t *testing.T, nodes ...meshNode) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, n := range nodes {
			var want []string
			for _, o := range nodes {
				if o != n {
					want = append(want, o.Name())
				}
			}
			slices.Sort(want)
			if got := n.remoteNames(); !slices.Equal(got, want) {
				return poll.Continue("%s has routes to %v, want %v", n.Name(), got, want)
			}
		}
		return poll.Success()
	}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// hostPort strips the scheme of a URL.
func hostPort(u string) string { return u[strings.LastIndex(u, "/")+1:] }

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func readFileString(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func writeFileString(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
