package lifecycle

import (
	"bufio"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"
	"gotest.tools/v3/assert"
)

// quietLog returns a logger that discards output unless -v is given.
func quietLog(t testing.TB) *logrus.Logger {
	l := logrus.New()
	if !testing.Verbose() {
		l.SetOutput(io.Discard)
	}
	return l
}

// startServer starts a server on a random loopback port and shuts it down
// at the end of the test.
func startServer(t testing.TB, mod func(*Options)) *Server {
	t.Helper()
	return startServerWith(t, Deps{}, mod)
}

// startServerWith is [startServer] with the given dependencies; a nil Log
// is a quiet one.
func startServerWith(t testing.TB, deps Deps, mod func(*Options)) *Server {
	t.Helper()
	if deps.Log == nil {
		deps.Log = quietLog(t)
	}
	o := &Options{Host: "127.0.0.1", Port: RandomPort}
	if mod != nil {
		mod(o)
	}
	s, err := New(o, deps)
	assert.NilError(t, err)
	assert.NilError(t, s.Start())
	t.Cleanup(func() { s.Shutdown() })
	return s
}

// connect returns a nats.go connection closed at the end of the test.
func connect(t testing.TB, s *Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)
	nc, err := nats.Connect(s.ClientURL(), opts...)
	assert.NilError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// rawClient is a plain TCP client that reads protocol lines.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t testing.TB, s *Server) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	assert.NilError(t, err)
	return newRawClient(t, nc)
}

// newRawClient reads the INFO on nc and returns it as a raw client, closed
// at the end of the test.
func newRawClient(t testing.TB, nc net.Conn) *rawClient {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	line := c.line()
	assert.Assert(t, strings.HasPrefix(line, "INFO {"), line)
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	_, err := c.nc.Write([]byte(s))
	assert.NilError(c.t, err)
}

// line reads one line without its CRLF, failing after 5 s.
func (c *rawClient) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	assert.NilError(c.t, err, "read line (got %q)", l)
	return strings.TrimRight(l, "\r\n")
}

// lineOrEOF reads one line, or returns "" at EOF.
func (c *rawClient) lineOrEOF() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err == io.EOF && l == "" {
		return ""
	}
	assert.NilError(c.t, err, "read line (got %q)", l)
	return strings.TrimRight(l, "\r\n")
}

// eof waits for the server to close the connection.
func (c *rawClient) eof() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c.r)
	assert.NilError(c.t, err, "want EOF, got %q", rest)
}

func readDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }

// clientSubs returns the number of subscriptions in the server's indexes
// less the system account's internal ones.
func clientSubs(s *Server) int {
	n := s.NumSubscriptions()
	if sc := s.sys.c.Load(); sc != nil {
		n -= sc.NumSubscriptions()
	}
	return n
}
