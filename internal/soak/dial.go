package soak

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Quiet is a CONNECT line for raw test clients: no +OK, no pedantic
// checks, protocol 1 (so the client is sent the lame-duck INFO).
const Quiet = "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n"

// DialNATS connects to a NATS server at addr over plain TCP, sends Quiet,
// then proto (for example "SUB x 1\r\n") and a PING, and returns once the
// PONG arrived, with nothing left unread. It fails on anything but INFO
// and PONG (an -ERR, say) or after timeout.
func DialNATS(addr, proto string, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(deadline)
	if _, err := io.WriteString(nc, Quiet+proto+"PING\r\n"); err != nil {
		return fail(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, []byte("PONG\r\n")) {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return fail(fmt.Errorf("waiting for PONG (got %q): %w", got, err))
		}
		if bytes.Contains(got, []byte("-ERR")) {
			return fail(fmt.Errorf("server answered %q", got))
		}
	}
	if !bytes.HasPrefix(got, []byte("INFO {")) || bytes.Count(got, []byte("\r\n")) != 2 {
		return fail(fmt.Errorf("unexpected greeting %q", got))
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

// DialMany opens n connections with [DialNATS], workers at a time; proto(i)
// is what connection i sends after CONNECT. On the first failure it closes
// what it opened and returns the error.
func DialMany(addr string, n, workers int, proto func(i int) string, timeout time.Duration) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := DialNATS(addr, proto(i), timeout)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		CloseAll(conns)
		return nil, first
	}
	return conns, nil
}

// CloseAll closes every non-nil connection.
func CloseAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// ExpectEOF reads from each connection and fails unless the server closed
// it cleanly (a FIN, not a reset) with nothing more to read but its own
// PINGs: the server sends its first PING 2 to 2.4 s after CONNECT, so a
// connection dialled early in a large batch has one waiting. It returns
// how many were not cleanly closed, and the first such error.
func ExpectEOF(conns []net.Conn, timeout time.Duration) (bad int, first error) {
	buf := make([]byte, 512)
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(timeout))
		var got []byte
		var err error
		for err == nil && len(got) < len(buf) {
			var n int
			n, err = c.Read(buf[len(got):])
			got = buf[:len(got)+n]
		}
		if errors.Is(err, io.EOF) && onlyPings(got) {
			continue
		}
		bad++
		if first == nil {
			first = fmt.Errorf("connection %d: read %q, %v; want a clean EOF", i, got, err)
		}
	}
	return bad, first
}

// onlyPings reports whether b is nothing but whole PING lines.
func onlyPings(b []byte) bool {
	for len(b) > 0 {
		if !bytes.HasPrefix(b, []byte("PING\r\n")) {
			return false
		}
		b = b[len("PING\r\n"):]
	}
	return true
}
