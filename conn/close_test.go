package conn

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn/subject"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// tcpConn returns a running connection on a real loopback TCP socket, the
// client's end (its receive buffer small, so that output piles up in the
// server's send buffer) and a reader of it past the INFO and a PONG.
func tcpConn(t *testing.T, cfg *Config) (*Conn, *net.TCPConn, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	client, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	assert.NilError(t, err)
	t.Cleanup(func() { client.Close() })
	assert.NilError(t, client.SetReadBuffer(64<<10))
	nc, err := ln.Accept()
	assert.NilError(t, err)
	c := New(1, nc, cfg, &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}})
	done := make(chan struct{})
	go func() {
		c.Run(func(f func()) { go f() })
		close(done)
	}()
	// The reader runs once it has answered a PING.
	_, err = client.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n"))
	assert.NilError(t, err)
	r := bufio.NewReader(client)
	for _, want := range []string{"INFO ", "PONG"} {
		line, err := r.ReadString('\n')
		assert.NilError(t, err)
		assert.Assert(t, strings.HasPrefix(line, want), "%q", line)
	}
	t.Cleanup(func() {
		c.Abort()
		<-done
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if c.State() == Closed {
				return poll.Success()
			}
			return poll.Continue("waiting for the writer")
		})
	})
	return c, client, r
}

// TestCloseWaitsForThePong: a connection closed with one of our PINGs
// unanswered, and its final flush still unread by the client, ends with a
// clean EOF once the client has read it all and answered: the server
// half-closes and waits for the PONG instead of closing the socket, which
// would turn the late PONG into a reset that throws away what the client
// had not read yet.
func TestCloseWaitsForThePong(t *testing.T) {
	c, client, r := tcpConn(t, &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 64 << 20, WriteDeadline: 10 * time.Second, PingInterval: time.Hour, PingMax: 2})
	c.pingTimerFired() // a PING, unanswered
	msg := []byte("MSG x 1 1024\r\n" + strings.Repeat("m", 1024) + "\r\n")
	const n = 512 // more than the client's receive buffer, less than what the server's send buffer takes
	for range n {
		c.queue(msg)
	}
	c.signal()
	c.Close(ServerShutdown)
	// The final flush is in the server's send buffer once the writer is
	// done; only then does the client read.
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if c.live.Load() <= 1 {
			return poll.Success()
		}
		return poll.Continue("waiting for the final flush")
	}, poll.WithTimeout(10*time.Second))

	got := 0
	for {
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			assert.Equal(t, err, io.EOF, "after %d messages: not a clean EOF", got)
			break
		}
		switch {
		case line == "PING\r\n":
			_, err := client.Write([]byte("PONG\r\n"))
			assert.NilError(t, err)
		case line == string(msg[:bytes.IndexByte(msg, '\n')+1]):
			_, err := io.ReadFull(r, make([]byte, 1026))
			assert.NilError(t, err, "after %d messages", got)
			got++
		default:
			t.Fatalf("unexpected %q", line)
		}
	}
	assert.Equal(t, got, n)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if c.State() == Closed {
			return poll.Success()
		}
		return poll.Continue("waiting for the PONG to end the close")
	}, poll.WithTimeout(5*time.Second))
	assert.Equal(t, c.Reason(), ServerShutdown)
	assert.Assert(t, c.Snapshot().RTT > 0, "the PONG was not taken as the answer")
}

// TestPongDue: after a shutdown's final flush, the close waits for the
// client's PONG only when a reset could throw something away: output was
// queued after the first unanswered PING, which went out within the wait.
func TestPongDue(t *testing.T) {
	msg := []byte("MSG x 1 2\r\nhi\r\n")
	for _, tc := range []struct {
		name   string
		steps  string // p: a PING of ours, m: a message, o: the client's PONG
		reason ClosedState
		later  time.Duration // the close this long after the steps
		want   bool
	}{
		{name: "no PING", steps: "mm", reason: ServerShutdown},
		{name: "only the PING", steps: "mp", reason: ServerShutdown},
		{name: "PINGs and nothing else", steps: "mpp", reason: ServerShutdown},
		{name: "a message after the PING", steps: "pm", reason: ServerShutdown, want: true},
		{name: "a message between PINGs", steps: "pmp", reason: ServerShutdown, want: true},
		{name: "answered", steps: "pmo", reason: ServerShutdown},
		{name: "answered, then a PING", steps: "pmop", reason: ServerShutdown},
		{name: "ignored for longer than the wait", steps: "pm", reason: ServerShutdown, later: time.Second},
		{name: "not a shutdown", steps: "pm", reason: ClientClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20, WriteDeadline: 10 * time.Second, PingInterval: time.Hour, PingMax: 5}
			c := New(1, a, cfg, &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}})
			t.Cleanup(func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.pingTmr != nil {
					c.pingTmr.Stop()
				}
			})
			for _, s := range tc.steps {
				switch s {
				case 'p':
					c.pingTimerFired()
				case 'm':
					c.queue(msg)
				case 'o':
					c.ponged()
				}
			}
			c.recordReason(tc.reason)
			c.mu.Lock()
			wait, due := c.pongDueLocked(time.Now().Add(tc.later))
			c.mu.Unlock()
			assert.Equal(t, due, tc.want)
			assert.Equal(t, wait, minPongWait)
		})
	}
}
