package lifecycle

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// memNet is an in-memory network for tests that run under testing/synctest,
// as net/http's own tests do: its listeners hand out one end of a
// [net.Pipe] per dial. Every read or write that waits on the other end is
// durably blocked, so the bubble's fake clock moves on whenever the server
// and its clients are all waiting, and a lame-duck window or a write
// deadline passes at once, exactly. A pipe has no buffer: a client that
// does not read stops the server's writes to it at the first byte.
type memNet struct {
	mu   sync.Mutex
	port int
	lns  map[string]*memListener // by "host:port"
}

func newMemNet() *memNet { return &memNet{port: 4000, lns: map[string]*memListener{}} }

// Listen is the server's [Deps.Listen]: port 0 gets the next free port.
func (n *memNet) Listen(network, address string) (net.Listener, error) {
	host, p, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	port, _ := strconv.Atoi(p)
	if port == 0 {
		n.port++
		port = n.port
	}
	key := net.JoinHostPort(host, strconv.Itoa(port))
	if _, busy := n.lns[key]; busy {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: tcpAddr(host, port), Err: syscall.EADDRINUSE}
	}
	ln := &memListener{net: n, key: key, addr: tcpAddr(host, port), conns: make(chan net.Conn, 128), done: make(chan struct{})}
	n.lns[key] = ln
	return ln, nil
}

// Dial connects to a listener of this network, as nats.go's custom dialer.
func (n *memNet) Dial(network, address string) (net.Conn, error) {
	n.mu.Lock()
	ln := n.lns[address]
	n.mu.Unlock()
	refused := &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	if ln == nil {
		return nil, refused
	}
	n.mu.Lock()
	n.port++
	local := tcpAddr("127.0.0.1", n.port)
	n.mu.Unlock()
	client, server := net.Pipe()
	select {
	case ln.conns <- &memConn{Conn: server, local: ln.addr, remote: local}:
		return &memConn{Conn: client, local: local, remote: ln.addr}, nil
	case <-ln.done:
		client.Close()
		server.Close()
		return nil, refused
	}
}

// natsOption makes nats.go dial through this network.
func (n *memNet) natsOption() nats.Option { return nats.SetCustomDialer(n) }

// httpClient returns a client that reaches this network's listeners,
// without keep-alive so no connection outlives its request.
func (n *memNet) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			return n.Dial(network, addr)
		},
	}}
}

func tcpAddr(host string, port int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.ParseIP(host), Port: port}
}

// memListener is one listener of a [memNet].
type memListener struct {
	net   *memNet
	key   string
	addr  *net.TCPAddr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		delete(l.net.lns, l.key)
		l.net.mu.Unlock()
		for {
			select {
			case c := <-l.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }

// memConn is a pipe end with TCP addresses.
type memConn struct {
	net.Conn
	local, remote *net.TCPAddr
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

// startMemServer starts a server on mn (inside a synctest bubble) and
// shuts it down at the end of the test.
func startMemServer(t *testing.T, mn *memNet, deps Deps, mod func(*Options)) *Server {
	t.Helper()
	deps.Listen = mn.Listen
	return startServerWith(t, deps, mod)
}

// connectMem returns a nats.go connection over mn, closed at the end of
// the test.
func connectMem(t *testing.T, mn *memNet, s *Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, s, append([]nats.Option{mn.natsOption()}, opts...)...)
}

// dialMemRaw is [dialRaw] over mn.
func dialMemRaw(t *testing.T, mn *memNet, s *Server) *rawClient {
	t.Helper()
	nc, err := mn.Dial("tcp", s.Addr())
	assert.NilError(t, err)
	return newRawClient(t, nc)
}

// since returns how long ago at was on the bubble's clock, for messages.
func since(at time.Time) string { return fmt.Sprint(time.Since(at)) }

// bubble runs f in a synctest bubble (see [synctest.Test]) with nats.go's
// timer pool empty before and after. nats.go keeps the timers of Flush and
// requests in a global sync.Pool; a timer made in one bubble and reused in
// another (or outside any) is a fatal "synctest channel from outside
// bubble". Two garbage collections empty every sync.Pool.
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	emptyPools := func() { runtime.GC(); runtime.GC() }
	emptyPools()
	defer emptyPools()
	synctest.Test(t, f)
}
