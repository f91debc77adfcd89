package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A lightSub is a subscriber on a raw connection: it completes the NATS
// handshake, sends its SUB lines and counts the MSG frames the server
// delivers, answering PING with PONG. It parses only the frame headers and
// skips the payloads, so that a measurement spends as little of the shared
// CPUs on the client side as a subscriber can; the holder processes of the
// subject-space scenario use the same reader.
type lightSub struct {
	c     net.Conn
	r     *bufio.Reader
	wmu   sync.Mutex    // serialises writes: the owner's SUB and PING lines, the reader's PONGs
	pongs chan struct{} // one value per PONG received
	done  chan struct{} // closed when the reader has stopped
	err   error         // why the reader stopped; read after done
}

// dialLightSub opens a raw connection to addr and completes the handshake
// (CONNECT, PING, PONG). Its reader starts at once and passes every batch
// of counted frames to onMsgs; bufSize is its read buffer.
func dialLightSub(addr string, bufSize int, onMsgs func(n int64)) (*lightSub, error) {
	c, err := handshake(addr)
	if err != nil {
		return nil, err
	}
	return newLightSub(c, bufSize, onMsgs), nil
}

// newLightSub starts counting the frames that arrive on c.
func newLightSub(c net.Conn, bufSize int, onMsgs func(n int64)) *lightSub {
	s := &lightSub{c: c, r: bufio.NewReaderSize(c, bufSize), pongs: make(chan struct{}, 16), done: make(chan struct{})}
	go s.read(onMsgs)
	return s
}

// write sends raw protocol lines.
func (s *lightSub) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.c.Write(b)
	return err
}

// sync sends lines (SUBs, say) followed by a PING and waits, at most limit,
// for the PONG: once it arrives the server has processed every line, and
// every frame it delivered before it has been counted.
func (s *lightSub) sync(lines []byte, limit time.Duration) error {
	if err := s.send(lines); err != nil {
		return err
	}
	return s.awaitPong(limit)
}

// send sends lines followed by a PING, for a later awaitPong.
func (s *lightSub) send(lines []byte) error {
	return s.write(append(lines, "PING\r\n"...))
}

// awaitPong waits, at most limit, for the PONG to a PING sent before.
func (s *lightSub) awaitPong(limit time.Duration) error {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-s.pongs:
		return nil
	case <-s.done:
		return fmt.Errorf("connection closed: %v", s.err)
	case <-t.C:
		return fmt.Errorf("no PONG within %v", limit)
	}
}

// close closes the connection and waits for the reader.
func (s *lightSub) close() {
	s.c.Close()
	<-s.done
}

// read counts MSG frames until the connection ends. It hands counts to
// onMsgs whenever its buffer runs empty, so that the shared tally is
// touched once per read, not once per frame.
func (s *lightSub) read(onMsgs func(n int64)) {
	defer close(s.done)
	var n int64
	flush := func() {
		if n > 0 {
			onMsgs(n)
			n = 0
		}
	}
	defer flush()
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			s.err = err
			return
		}
		switch {
		case bytes.HasPrefix(line, []byte("MSG ")):
			size, err := lastInt(line)
			if err != nil {
				s.err = fmt.Errorf("bad MSG line %q", line)
				return
			}
			if _, err := s.r.Discard(size + 2); err != nil {
				s.err = err
				return
			}
			n++
		case bytes.HasPrefix(line, []byte("PING")):
			if err := s.write([]byte("PONG\r\n")); err != nil {
				s.err = err
				return
			}
		case bytes.HasPrefix(line, []byte("PONG")):
			flush()
			select {
			case s.pongs <- struct{}{}:
			default:
			}
		case bytes.HasPrefix(line, []byte("-ERR")):
			s.err = errors.New(string(bytes.TrimSpace(line)))
			return
		}
		if s.r.Buffered() == 0 {
			flush()
		}
	}
}

// lastInt parses the last space-separated field of a protocol line.
func lastInt(line []byte) (int, error) {
	line = bytes.TrimRight(line, "\r\n")
	i := bytes.LastIndexByte(line, ' ')
	return strconv.Atoi(string(line[i+1:]))
}

// tally counts delivered frames across subscribers and notes when the
// count reaches its goal.
type tally struct {
	n    atomic.Int64
	goal int64
	at   atomic.Int64  // Unix nanoseconds when n reached goal
	done chan struct{} // closed then
	once sync.Once
}

func newTally(goal int64) *tally { return &tally{goal: goal, done: make(chan struct{})} }

func (t *tally) add(k int64) {
	if t.n.Add(k) >= t.goal {
		t.once.Do(func() {
			t.at.Store(time.Now().UnixNano())
			close(t.done)
		})
	}
}

// wait waits, at most limit, for the goal and returns when it was reached.
func (t *tally) wait(limit time.Duration) (time.Time, error) {
	tm := time.NewTimer(limit)
	defer tm.Stop()
	select {
	case <-t.done:
		return time.Unix(0, t.at.Load()), nil
	case <-tm.C:
		return time.Time{}, fmt.Errorf("%d of %d messages delivered within %v", t.n.Load(), t.goal, limit)
	}
}
