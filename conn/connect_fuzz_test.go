package conn

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn/subject"
)

// connectOutcome is what a client sees after "CONNECT <arg>" and a PING:
// the lines after INFO, whether the server then closed the connection,
// and the close reason it recorded.
type connectOutcome struct {
	lines  []string
	closed bool
	reason ClosedState
}

// expectedConnect is the oracle: nats-server's processConnect on arg. The
// JSON is decoded over the defaults, as the server does; a decode error
// closes the connection as a protocol violation without -ERR; a protocol
// other than 0 or 1, or no_responders without headers, gets its -ERR and
// close reason; anything else is accepted, with +OK when verbose.
func expectedConnect(arg []byte) connectOutcome {
	opts := defaultConnectOpts
	switch err := json.Unmarshal(arg, &opts); {
	case err != nil:
		return connectOutcome{closed: true, reason: ProtocolViolation}
	case opts.Protocol < 0 || opts.Protocol > 1:
		return connectOutcome{lines: []string{"-ERR 'invalid client protocol'"}, closed: true, reason: BadClientProtocolVersion}
	case opts.NoResponders && !opts.Headers:
		return connectOutcome{lines: []string{"-ERR 'no responders requires headers support'"}, closed: true, reason: NoRespondersRequiresHeaders}
	case opts.Verbose:
		return connectOutcome{lines: []string{"+OK", "PONG"}}
	default:
		return connectOutcome{lines: []string{"PONG"}}
	}
}

// runConnect sends "CONNECT <arg>\r\nPING\r\n" to a real connection over a
// pipe and reports what came back. It fails the test if the connection
// neither answers nor closes within a few seconds (a hang), and waits for
// both of the connection's goroutines to finish.
func runConnect(t *testing.T, arg []byte) connectOutcome {
	t.Helper()
	srv, cli := net.Pipe()
	defer cli.Close()
	closed := make(chan struct{})
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}, OnClosed: func(*Conn) { close(closed) }}
	c := New(1, srv, &Config{MaxControlLine: 1 << 20, MaxPayload: 1 << 20, MaxPending: 1 << 20, WriteDeadline: 5 * time.Second}, sh)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.Run(func(f func()) { go f() })
	}()
	defer func() {
		cli.Close()
		select {
		case <-closed:
			<-ran
		case <-time.After(5 * time.Second):
			t.Fatalf("connection did not reach Closed after the client went away (state %s)", c.State())
		}
	}()
	go func() {
		// A pipe write blocks until read; it fails once the server closed.
		cli.Write(append(append([]byte("CONNECT "), arg...), "\r\nPING\r\n"...))
	}()

	var out connectOutcome
	cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(cli)
	info, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(info, "INFO {") {
		t.Fatalf("no INFO first: %q, %v", info, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("hang: no answer and no close within 5 s (got %q so far, state %s)", out.lines, c.State())
			}
			if !errors.Is(err, io.EOF) || line != "" {
				t.Fatalf("read: %q, %v", line, err)
			}
			out.closed = true
			break
		}
		out.lines = append(out.lines, strings.TrimRight(line, "\r\n"))
		if line == "PONG\r\n" {
			break
		}
	}
	if out.closed {
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("socket closed but the connection did not reach Closed (state %s)", c.State())
		}
		out.reason = c.Reason()
	}
	return out
}

// FuzzConnect sends arbitrary CONNECT arguments to a real connection (its
// reader, parser, handler and writer, over a pipe). The argument is one
// line: line ends in the input become blanks. The connection must never
// panic or hang, and must answer exactly as nats-server would (see
// expectedConnect): +OK/PONG and stay open, or its -ERR (if any) and close
// with the right reason. The seed corpus is testdata/fuzz/FuzzConnect;
// `make fuzz` explores further.
func FuzzConnect(f *testing.F) {
	f.Fuzz(func(t *testing.T, arg []byte) {
		if len(arg) > 64*1024 {
			t.Skip("longer than this test's control line")
		}
		arg = bytes.Clone(arg)
		for i, b := range arg {
			if b == '\r' || b == '\n' {
				arg[i] = ' '
			}
		}
		got := runConnect(t, arg)
		if len(bytes.Trim(arg, " \t")) == 0 {
			// No argument at all: a protocol violation, with or without
			// the parser's -ERR.
			if !got.closed || got.reason != ProtocolViolation {
				t.Fatalf("empty CONNECT: got %+v, want a close as ProtocolViolation", got)
			}
			return
		}
		want := expectedConnect(arg)
		if got.closed != want.closed || got.reason != want.reason || strings.Join(got.lines, "|") != strings.Join(want.lines, "|") {
			t.Fatalf("CONNECT %q:\n got  lines %q, closed %v, reason %s\n want lines %q, closed %v, reason %s",
				arg, got.lines, got.closed, got.reason.Name(), want.lines, want.closed, want.reason.Name())
		}
	})
}
