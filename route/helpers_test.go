package route

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/listener"
	"github.com/sirupsen/logrus"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Scripted route peers over raw sockets, as nats-server's own test/test.go
// helpers drive a server: every line the cluster sends is read and checked.

const selfID = "NSELFSELFSELFSELFSELFSELFSELFSELFSELFSELFSELFSELFSELF1"

// syncBuffer is a log sink the test reads while the cluster writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testCluster is a Cluster on a loopback route listener.
type testCluster struct {
	*Cluster
	t    *testing.T
	port int
	logs *syncBuffer
	// changes counts URLsChanged calls.
	changes chan struct{}
	// sh holds the accounts the routes deliver into ($G, $SYS and A),
	// with the cluster's router.
	sh     *conn.Shared
	router *Router
}

func startCluster(t *testing.T, mod func(*Config)) *testCluster {
	t.Helper()
	ln, err := listener.Listen("127.0.0.1", -1)
	assert.NilError(t, err)
	cfg := &Config{
		Name:          "c1",
		Host:          "127.0.0.1",
		Port:          ln.Port(),
		ClientURLs:    []string{"127.0.0.1:4222"},
		WriteDeadline: 2 * time.Second,
		MaxPending:    64 << 20,
		Server:        ServerInfo{ID: selfID, Name: "self", Version: "0.1.0", MaxPayload: 1 << 20},
	}
	if mod != nil {
		mod(cfg)
	}
	logs := &syncBuffer{}
	log := logrus.New()
	log.SetOutput(logs)
	log.SetFormatter(&logrus.TextFormatter{DisableQuote: true, DisableTimestamp: true})
	log.SetLevel(logrus.TraceLevel)
	tc := &testCluster{t: t, port: ln.Port(), logs: logs, changes: make(chan struct{}, 100)}
	tc.sh = &conn.Shared{Stats: &conn.Stats{}, Log: log}
	tc.router = NewRouter(tc.sh, log)
	tc.sh.Router = tc.router
	accs, err := conn.NewAccounts(account.Config{Accounts: []account.Account{{Name: "A"}}}, "$SYS", nil, nil, tc.router)
	assert.NilError(t, err)
	tc.sh.Accounts.Store(accs)
	tc.Cluster = New(cfg, log, Hooks{URLsChanged: func() { tc.changes <- struct{}{} }}, tc.router)
	tc.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tc.Shutdown(ctx)
		if t.Failed() {
			t.Logf("cluster log:\n%s", logs.String())
		}
	})
	return tc
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if cond() {
			return poll.Success()
		}
		return poll.Continue("waiting for %s", what)
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(10*time.Second))
}

// closedFor waits until n routes were closed for reason.
func (tc *testCluster) closedFor(reason conn.ClosedState, n int64) {
	tc.t.Helper()
	waitFor(tc.t, fmt.Sprintf("%d route(s) closed for %s", n, reason), func() bool {
		return tc.ClosedCounts()[reason] == n
	})
}

// waitLog waits until the cluster logged s.
func (tc *testCluster) waitLog(s string) {
	tc.t.Helper()
	waitFor(tc.t, fmt.Sprintf("%q in the log", s), func() bool { return strings.Contains(tc.logs.String(), s) })
}

// activeIDs lists the remote ids of the active routes.
func (tc *testCluster) activeIDs() []string {
	var ids []string
	for _, r := range tc.Routes() {
		ids = append(ids, r.RemoteID)
	}
	return ids
}

// peer is a scripted route peer on one raw socket.
type peer struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func newPeer(t *testing.T, nc net.Conn) *peer {
	t.Cleanup(func() { nc.Close() })
	return &peer{t: t, nc: nc, r: bufio.NewReader(nc)}
}

// dialPeer connects to the cluster's route port and reads its INFO.
func (tc *testCluster) dialPeer() (*peer, Info) {
	tc.t.Helper()
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tc.port))
	assert.NilError(tc.t, err)
	p := newPeer(tc.t, nc)
	return p, p.info()
}

func (p *peer) send(format string, args ...any) {
	p.t.Helper()
	_, err := fmt.Fprintf(p.nc, format, args...)
	assert.NilError(p.t, err)
}

// line reads one line without its CRLF.
func (p *peer) line() string {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := p.r.ReadString('\n')
	assert.NilError(p.t, err, "read line (got %q)", l)
	return strings.TrimRight(l, "\r\n")
}

// lineSkippingPings reads the next line that is not a PING, answering
// PINGs with PONG.
func (p *peer) lineSkippingPings() string {
	p.t.Helper()
	for {
		l := p.line()
		if l != "PING" {
			return l
		}
		p.send("PONG\r\n")
	}
}

// payload reads a message body of n bytes and its CRLF.
func (p *peer) payload(n int) string {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n+2)
	_, err := io.ReadFull(p.r, b)
	assert.NilError(p.t, err)
	assert.Equal(p.t, string(b[n:]), "\r\n")
	return string(b[:n])
}

// info reads an INFO line and decodes it.
func (p *peer) info() Info {
	p.t.Helper()
	l := p.lineSkippingPings()
	assert.Assert(p.t, strings.HasPrefix(l, "INFO {"), l)
	var info Info
	assert.NilError(p.t, json.Unmarshal([]byte(strings.TrimPrefix(l, "INFO ")), &info))
	return info
}

// eof waits for the other side to close, returning what it sent first.
func (p *peer) eof() string {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(p.r)
	assert.NilError(p.t, err, "want EOF, got %q", rest)
	return string(rest)
}

// peerInfo is the INFO a scripted peer sends, as a nats-server with
// default settings would (pooling and compression advertised).
func peerInfo(id, name string, port int, urls ...string) string {
	info := map[string]any{
		"server_id": id, "server_name": name, "version": "2.15.2", "proto": 3, "go": "go1.26",
		"host": "127.0.0.1", "port": port, "headers": true, "max_payload": 1048576,
		"cluster": "c1", "compression": "accept", "route_pool_size": 3, "lnoc": true, "ln": true,
		"nonce": "abc",
	}
	if len(urls) > 0 {
		info["connect_urls"] = urls
	}
	b, _ := json.Marshal(info)
	return "INFO " + string(b) + "\r\n"
}

// connectLine is a route CONNECT for cluster c1 from server id.
func peerConnect(id string, extra string) string {
	return fmt.Sprintf(`CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":%q,"cluster":"c1"%s}`+"\r\n", id, extra)
}

// register connects a scripted peer with id and waits until the cluster
// registered it.
func (tc *testCluster) register(id string, urls ...string) *peer {
	tc.t.Helper()
	p, _ := tc.dialPeer()
	p.send("%s%s", peerConnect(id, ""), peerInfo(id, id, 7000, urls...))
	waitFor(tc.t, "route to "+id, func() bool {
		for _, r := range tc.Routes() {
			if r.RemoteID == id {
				return true
			}
		}
		return false
	})
	return p
}

// listenPeer listens on a loopback port for the cluster to dial.
func listenPeer(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().String()
}

// accept waits for the cluster to dial ln.
func acceptPeer(t *testing.T, ln net.Listener) *peer {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	nc, err := ln.Accept()
	assert.NilError(t, err)
	return newPeer(t, nc)
}
