package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// rawConn is a plain NATS client for the scenarios that need exact control
// over what is sent and when: thousands of SUBs in one write, a PING after
// each step.
type rawConn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

// dialRaw connects to addr, reads INFO and sends a quiet CONNECT.
func dialRaw(addr string) (*rawConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &rawConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	line, err := c.line(5 * time.Second)
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		nc.Close()
		return nil, fmt.Errorf("no INFO from %s: %q %v", addr, line, err)
	}
	c.w.WriteString("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n")
	return c, nil
}

// line reads one line without its CRLF, waiting at most limit.
func (c *rawConn) line(limit time.Duration) (string, error) {
	c.nc.SetReadDeadline(time.Now().Add(limit))
	l, err := c.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// ping sends what is buffered and a PING, then reads until the PONG
// (within limit), handing every other line to other (may be nil).
func (c *rawConn) ping(limit time.Duration, other func(string)) error {
	c.w.WriteString("PING\r\n")
	if err := c.w.Flush(); err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for {
		l, err := c.line(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("waiting for PONG: %w", err)
		}
		if l == "PONG" {
			return nil
		}
		if strings.HasPrefix(l, "-ERR") {
			return fmt.Errorf("server: %s", l)
		}
		if other != nil {
			other(l)
		}
	}
}

func (c *rawConn) close() { c.nc.Close() }
