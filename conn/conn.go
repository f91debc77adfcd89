package conn

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/natsd/natsd/conn/parser"
)

// Conn is one client connection. Its life is the declared [Machine]: the
// reader goroutine parses input and delivers messages, queued output is
// written inline by whoever queued it or by a writer goroutine started when
// that is not enough (writer.go), and [Conn.Close] from any goroutine
// starts the transition to Closing.
type Conn struct {
	cid uint64
	// nc is the accepted socket: closing it ends both goroutines. rw is
	// what the reader and writer use: nc, or the TLS connection over it,
	// set by Run before either goroutine starts.
	nc   net.Conn
	rw   net.Conn
	cfg  *Config
	sh   *Shared
	host string
	port int

	state  atomic.Int32  // a State
	reason atomic.Uint32 // first ClosedState in the low byte, then skipFlushBit and slowBit
	live   atomic.Int32  // reader and writer roles still running (see writer.go)

	// mu guards the outbound buffer, the client's CONNECT options and the
	// ping bookkeeping: it is the lock every delivery to the connection
	// takes, so nothing that grows with the subscriptions is done under it.
	mu  sync.Mutex
	out outbound
	// subsMu guards the subscriptions by SID and, once closed, the
	// subjects they had (finalSubs, kept for monitoring and never changed
	// after). numSubs is len(subs), for readers without the lock.
	subsMu    sync.Mutex
	subs      map[string]*Subscription
	finalSubs []string
	numSubs   atomic.Int64
	opts      connectOpts
	pingTmr   *time.Timer
	pingEvery time.Duration // the interval pingTmr was set for
	pingsOut  int
	rttStart  int64 // unix nanoseconds of the unanswered PING that measures the RTT; 0: none
	lastPing  int64 // unix nanoseconds of the last PING sent; 0: none yet
	// pingMark is out.added just after the first unanswered PING (and any
	// PINGs queued right behind it): while nothing else has been queued,
	// the client has nothing left to read once it answers (see endRead).
	pingMark int64
	flushed  bool          // the final flush is done (see endRead)
	rtt      time.Duration // 0 until estimated at CONNECT, then measured

	// wake tells the writer, waiting on it with mu, that output is queued
	// or the state changed, and a closing reader that an inline write is
	// over (a condition rather than a channel: no allocation per
	// connection).
	wake sync.Cond
	// spawn starts the writer goroutine and raw is the socket for inline
	// writes (nil: every write goes through the writer goroutine), both
	// set once the connection is ready for output; wstate is the writer
	// role's state. All guarded by mu; see writer.go. writerUp is set,
	// for good, when wstate becomes writerRunning, for wake-ups without mu.
	spawn    func(func())
	raw      syscall.RawConn
	wstate   writerState
	writerUp atomic.Bool

	// Reader-owned: the parser, the limits it was last given, the
	// connections this read batch queued output to (signalled once at the
	// end of the batch) and the source of the queue-group pick.
	parser    *parser.Parser
	parserLim *Limits
	pcd       map[*Conn]struct{}
	rnd       *rand.Rand
	// fwd is the reader's scratch for the cluster (router.go), made at
	// its first message to a route; fromRoute marks a producer of messages
	// that came from a route, which are never forwarded to routes (one
	// hop).
	fwd       *forwarding
	fromRoute bool
	// stalled is how long this read's deliveries have waited on slow
	// receivers' stall gates; reset at every read.
	stalled time.Duration
	// Messages and payload bytes received (in) and delivered to others
	// (out) by this read, added to the shared counters once per read
	// rather than once per message.
	readIn, readInBytes, readOut, readOutBytes int64

	lastIn   atomic.Int64 // unix nanoseconds of the last input
	inMsgs   atomic.Int64
	inBytes  atomic.Int64
	outMsgs  atomic.Int64
	outBytes atomic.Int64
	// entered[s] is when the connection entered state s (unix nanoseconds),
	// set by fire; it is the connection's transition history.
	entered [numStates]atomic.Int64

	// auth is the authentication, permissions and account state (auth.go),
	// last so that it keeps the hot fields above together.
	auth connAuth
}

// Flags in Conn.reason above the reason's byte.
const (
	skipFlushBit = 1 << 8 // a skip-flush reason was recorded
	slowBit      = 1 << 9 // counted as a slow consumer (see slowConsumer)
)

// connectOpts is the client's CONNECT JSON. Defaults are nats-server's for a
// client that sends no CONNECT or omits a field.
type connectOpts struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	Protocol     int    `json:"protocol"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
}

var defaultConnectOpts = connectOpts{Verbose: true, Pedantic: true, Echo: true}

// New returns a connection in the Open state for an accepted socket, with
// its INFO line queued. It does no I/O; [Conn.Run] starts it.
func New(cid uint64, nc net.Conn, cfg *Config, sh *Shared) *Conn {
	sh.initLimits(cfg)
	c := &Conn{
		cid:  cid,
		nc:   nc,
		rw:   nc,
		cfg:  cfg,
		sh:   sh,
		opts: defaultConnectOpts,
	}
	c.parserLim = c.lim()
	c.parser = parser.New(c.parserLim.MaxControlLine, c.parserLim.MaxPayload)
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = a.IP.String(), a.Port
	} else if a := nc.RemoteAddr(); a != nil {
		if h, p, err := net.SplitHostPort(a.String()); err == nil {
			c.host = h
			c.port, _ = strconv.Atoi(p)
		}
	}
	c.wake.L = &c.mu
	now := time.Now().UnixNano()
	c.lastIn.Store(now)
	c.entered[Open].Store(now)
	c.live.Store(2)
	c.auth.acc = sh.accounts().Global()
	c.initAuth()
	c.sendInfo(false)
	return c
}

// Run writes the queued INFO and runs the reader in the calling goroutine;
// spawn starts the writer goroutine if the connection comes to need one (so
// the server can track and wait for it). It returns when the reader is
// done; the connection reaches Closed when the writer role is done too. A
// connection closed before Run (refused by the server) only flushes what
// was queued.
func (c *Conn) Run(spawn func(func())) {
	if c.cfg.TLS != nil && c.State() == Open {
		c.handshake()
	}
	c.startAuthTimer()
	c.mu.Lock()
	open := c.State() == Open
	if every := c.lim().PingInterval; open && every > 0 {
		c.pingTmr, c.pingEvery = time.AfterFunc(every, c.pingTimerFired), every
	}
	c.mu.Unlock()
	c.ready(spawn)
	if open {
		c.flush()
		c.readLoop()
	} else {
		c.readerDone()
	}
}

// sendInfo queues the INFO line; ldm marks the lame-duck announcement.
func (c *Conn) sendInfo(ldm bool) { c.sendInfoFrom(c.cfg.Info, ldm) }

// sendInfoFrom queues info as the INFO line, with this connection's
// client_id and client_ip.
func (c *Conn) sendInfoFrom(info Info, ldm bool) {
	info.ClientID = c.cid
	info.ClientIP = c.host
	info.LameDuckMode = ldm
	c.authInfo(&info)
	b, err := json.Marshal(info)
	if err != nil { // cannot happen: Info has only plain fields
		panic(err)
	}
	line := make([]byte, 0, len(b)+7)
	line = append(line, "INFO "...)
	line = append(line, b...)
	line = append(line, "\r\n"...)
	c.queue(line)
	c.flush()
}

// SendLameDuckInfo sends the asynchronous INFO with "ldm":true, only to a
// client that declared protocol ≥ 1 in CONNECT (older clients would not
// understand an INFO after the first).
func (c *Conn) SendLameDuckInfo() {
	c.mu.Lock()
	proto := c.opts.Protocol
	c.mu.Unlock()
	if proto >= 1 {
		c.sendInfo(true)
	}
}

// readLoop reads and parses until the socket fails or the connection leaves
// Open, then reports the reader done. Once the connection is closing, its
// input is no longer processed: the reader only looks for the PONG that
// lets the close end without a reset (see [Conn.endRead]), until the
// writer's final flush ends the read.
func (c *Conn) readLoop() {
	defer c.readerDone()
	h := (*protoHandler)(c)
	buf := make([]byte, startReadBuf)
	short := 0
	for {
		if room := c.parser.BodyRoom(); room != nil && c.State() == Open {
			// A large message body: read it straight into the parser's
			// body buffer rather than copying it out of buf.
			n, err := c.rw.Read(room)
			c.parser.BodyRead(n)
			if n > 0 {
				c.lastIn.Store(time.Now().UnixNano())
			}
			if err != nil {
				c.readFailed(err)
				return
			}
			continue
		}
		n, err := c.rw.Read(buf)
		if c.State() != Open {
			if n > 0 && c.parser.Parse(buf[:n], (*closingHandler)(c)) != nil {
				return
			}
			if err != nil {
				return
			}
			continue
		}
		if n > 0 {
			c.lastIn.Store(time.Now().UnixNano())
			c.stalled = 0
			if c.auth.pending && !c.auth.checked && !c.firstInput(buf[0]) {
				return
			}
			c.syncParserLimits()
			perr := c.parser.Parse(buf[:n], h)
			c.addReadCounts()
			c.flushPending()
			if perr != nil {
				c.protocolError(perr)
				return
			}
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		// Grow the buffer for busy connections, shrink it back when idle, so an
		// idle connection holds only a small one.
		switch {
		case n == len(buf) && len(buf) < maxReadBuf:
			buf = make([]byte, 2*len(buf))
			short = 0
		case n < len(buf)/2 && len(buf) > startReadBuf:
			if short++; short > shrinkAfter {
				buf = make([]byte, len(buf)/2)
				short = 0
			}
		default:
			short = 0
		}
	}
}

// readFailed closes an open connection whose read failed: the client's
// close (EOF) or a read error.
func (c *Conn) readFailed(err error) {
	if c.State() != Open {
		return
	}
	if errors.Is(err, io.EOF) {
		c.Close(ClientClosed)
	} else {
		c.Close(ReadError)
	}
}

const (
	startReadBuf = 512
	maxReadBuf   = 64 * 1024
	shrinkAfter  = 2
)

// addReadCounts adds this read's message counts to the connection's and
// the server's counters. It runs before the read's output is flushed, so a
// client that has its PONG sees its messages counted.
func (c *Conn) addReadCounts() {
	if c.readIn > 0 {
		c.inMsgs.Add(c.readIn)
		c.inBytes.Add(c.readInBytes)
		c.sh.Stats.InMsgs.Add(c.readIn)
		c.sh.Stats.InBytes.Add(c.readInBytes)
		c.readIn, c.readInBytes = 0, 0
	}
	if c.readOut > 0 {
		c.sh.Stats.OutMsgs.Add(c.readOut)
		c.sh.Stats.OutBytes.Add(c.readOutBytes)
		c.readOut, c.readOutBytes = 0, 0
	}
}

// flushPending has the output this read batch queued written (see
// [Conn.flush]), for every connection it queued to.
func (c *Conn) flushPending() {
	for d := range c.pcd {
		delete(c.pcd, d)
		d.flush()
	}
	if c.fwd != nil && len(c.fwd.wakers.w) > 0 {
		c.fwd.wakers.wakeAll()
	}
}

// goroutineDone is called by the reader and the writer role as they end;
// the last one closes the socket (if nothing closed it before) and moves
// the machine to Closed.
func (c *Conn) goroutineDone() {
	if c.live.Add(-1) == 0 {
		c.nc.Close()
		c.fire(EventDone)
	}
}

// CID returns the connection id (client_id in INFO).
func (c *Conn) CID() uint64 { return c.cid }

// Reason returns the first recorded close reason, or 0 while open.
func (c *Conn) Reason() ClosedState { return ClosedState(c.reason.Load() & 0xff) }

// SkipFlush reports whether any recorded reason turned the final flush off.
func (c *Conn) SkipFlush() bool { return c.reason.Load()&skipFlushBit != 0 }
