package lifecycle

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Helpers of the reliability suites (scale, stuck, vanish).

// serverConn returns the server's connection for the raw client c.
func serverConn(t *testing.T, s *Server, c *rawClient) *conn.Conn {
	t.Helper()
	port := c.port()
	for _, sc := range s.Clients() {
		if sc.Snapshot().Port == port {
			return sc
		}
	}
	t.Fatalf("no server connection for client port %d", port)
	return nil
}

// waitConnState waits until c is in state st.
func waitConnState(t *testing.T, c *conn.Conn, st conn.State) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if c.State() == st {
			return poll.Success()
		}
		return poll.Continue("connection %d is %s, waiting for %s", c.CID(), c.State(), st)
	}, poll.WithDelay(time.Millisecond), poll.WithTimeout(20*time.Second))
}

// reset makes the client vanish: SO_LINGER 0 then close sends a TCP RST
// instead of a FIN, and discards whatever was unsent.
func reset(t *testing.T, c *rawClient) {
	t.Helper()
	tc := c.nc.(*net.TCPConn)
	assert.NilError(t, tc.SetLinger(0))
	assert.NilError(t, tc.Close())
}

// publishN publishes n messages of size bytes on subject and flushes.
func publishN(t *testing.T, pub *nats.Conn, subject string, n, size int) {
	t.Helper()
	payload := make([]byte, size)
	for range n {
		assert.NilError(t, pub.Publish(subject, payload))
	}
	assert.NilError(t, pub.Flush())
}

// publishN publishes n messages of size bytes on subject from a raw
// client that sent CONNECT, then waits for the server to have read them
// all (PING, PONG), answering the server's own PINGs meanwhile.
func (c *rawClient) publishN(subject string, n, size int) {
	c.t.Helper()
	msg := fmt.Appendf(nil, "PUB %s %d\r\n%s\r\n", subject, size, make([]byte, size))
	buf := bytes.Repeat(msg, n)
	c.send(string(append(buf, "PING\r\n"...)))
	for {
		switch l := c.line(); l {
		case "PONG":
			return
		case "PING":
			c.send("PONG\r\n")
		default:
			c.t.Fatalf("publisher got %q", l)
		}
	}
}

// timed runs f in a goroutine and returns a channel that receives how
// long it took.
func timed(f func()) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		f()
		ch <- time.Since(start)
	}()
	return ch
}

// within waits for a duration from ch, failing after limit.
func within(t *testing.T, ch <-chan time.Duration, limit time.Duration, what string) time.Duration {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(limit):
		t.Fatalf("%s did not finish within %v", what, limit)
		return 0
	}
}
