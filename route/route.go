package route

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
)

// Route is one connection to another server of the cluster. Its life is
// the declared [Machine]. A solicited route's dialler goroutine becomes its
// reader once connected; an accepted route's reader is the accept
// handler's goroutine; the writer is a goroutine of its own.
type Route struct {
	rid uint64
	cl  *Cluster
	// accepted is fixed at creation: the remote dialled this server.
	accepted bool

	// fireMu serialises transitions and their callbacks.
	fireMu  sync.Mutex
	state   atomic.Int32
	entered [numStates]atomic.Int64 // unix nanoseconds each state was entered
	reason  atomic.Uint32           // first ClosedState in the low byte, skipFlushBit for any skip-flush reason
	live    atomic.Int32            // reader and writer still running

	// ctx ends when the route reaches Closed; the dialler's dial and
	// waits watch it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards the fields below. Lock order: fireMu, then the cluster's
	// or the router's mu, then mu; code holding mu takes no other lock
	// but the router's remote-interest locks (to keep r.interest and the
	// index in step).
	mu sync.Mutex
	// What the route is, as nats-server's route struct says it: a
	// solicited route has the URL it dials; a duplicate may upgrade the
	// survivor to solicited and explicit; retry makes an accepted survivor
	// reconnect too.
	url         *url.URL
	solicited   bool
	kind        Kind
	retry       bool
	noReconnect bool
	self        bool // the route led back to this server
	gossipMode  byte // the gossip_mode our INFO carries (implicit routes)
	startDelay  time.Duration
	attempts    int
	delay       time.Duration // the next backoff
	firstDial   bool          // no connection was ever made for this URL

	nc         net.Conn
	secured    bool // nc is the TLS connection (cluster TLS)
	host       string
	port       int
	out        []byte // queued output
	spare      []byte
	wake       sync.Cond
	connectIn  bool // CONNECT received
	infoIn     bool // first INFO processed
	remote     Info // the first INFO received
	remoteID   string
	urls       []string                   // the remote's client URLs, while they are in the shared set
	interest   map[interestKey]*remoteSub // the remote's interest, also in the router's index
	stall      chan struct{}              // closed after the next write (see sendMsg)
	pingTmr    *time.Timer
	authTmr    *time.Timer
	pingsOut   int
	rttStart   time.Time
	rtt        time.Duration
	registered bool

	// Reader-owned: the producer that delivers the route's messages (nil
	// without a server to deliver to) and the unknown accounts already
	// logged.
	prod    *conn.Producer
	unknown map[string]bool

	start    time.Time
	last     atomic.Int64 // unix nanoseconds of the last input
	inMsgs   atomic.Int64
	inBytes  atomic.Int64
	outMsgs  atomic.Int64
	outBytes atomic.Int64
}

const skipFlushBit = 1 << 8

// interestKey is one remote subscription: (account, subject, queue).
type interestKey struct {
	account, subject, queue string
}

func newRoute(cl *Cluster, rid uint64, accepted bool) *Route {
	r := &Route{rid: rid, cl: cl, accepted: accepted}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wake.L = &r.mu
	now := time.Now().UnixNano()
	r.entered[Connecting].Store(now)
	r.last.Store(now)
	return r
}

// RID returns the route id, unique within the server (rid in /routez).
func (r *Route) RID() uint64 { return r.rid }

// Reason returns the first recorded close reason, or 0.
func (r *Route) Reason() conn.ClosedState { return conn.ClosedState(r.reason.Load() & 0xff) }

func (r *Route) skipFlush() bool { return r.reason.Load()&skipFlushBit != 0 }

func (r *Route) recordReason(reason conn.ClosedState) {
	for {
		old := r.reason.Load()
		next := old
		if old&0xff == 0 {
			next |= uint32(reason)
		}
		if reason.SkipsFlush() {
			next |= skipFlushBit
		}
		if next == old || r.reason.CompareAndSwap(old, next) {
			return
		}
	}
}

// Close records reason and starts closing the route. It is safe to call
// from any goroutine, any number of times; the first reason is the one
// reported, and a later skip-flush reason still cuts a flush short.
func (r *Route) Close(reason conn.ClosedState) {
	r.recordReason(reason)
	if r.fire(EventClose, reason.String()) {
		return
	}
	if reason.SkipsFlush() && r.State() == Closing {
		r.mu.Lock()
		nc := r.nc
		r.mu.Unlock()
		if nc != nil {
			nc.Close()
		}
	}
}

// abort closes the route without flushing, for a route whose graceful
// close did not finish in time. The reported reason is unchanged.
func (r *Route) abort() {
	r.recordReason(conn.ServerShutdown)
	for {
		old := r.reason.Load()
		if old&skipFlushBit != 0 || r.reason.CompareAndSwap(old, old|skipFlushBit) {
			break
		}
	}
	r.fire(EventClose, conn.ServerShutdown.String())
	r.mu.Lock()
	nc := r.nc
	r.mu.Unlock()
	if nc != nil {
		nc.Close()
	}
}

// closeWithError sends "-ERR 'text'" and closes the route with reason,
// flushing the error first.
func (r *Route) closeWithError(text string, reason conn.ClosedState) {
	r.sendErr(text)
	r.Close(reason)
}

func (r *Route) sendErr(text string) {
	b := make([]byte, 0, len(text)+9)
	b = append(b, "-ERR '"...)
	b = append(b, text...)
	b = append(b, "'\r\n"...)
	r.queue(b)
}

// queue appends b to the route's output and wakes the writer. Nothing is
// queued once the route leaves Handshaking and Active; a route over
// max_pending is closed as a slow consumer.
func (r *Route) queue(b []byte) bool {
	r.mu.Lock()
	if st := r.State(); st != Handshaking && st != Active {
		r.mu.Unlock()
		return false
	}
	r.out = append(r.out, b...)
	over := r.cl.maxPending() > 0 && int64(len(r.out)) > r.cl.maxPending()
	r.wake.Signal()
	r.mu.Unlock()
	if r.cl.tracing() {
		r.cl.trace(r, "->>", b)
	}
	if over {
		// Closed from a goroutine of its own: queue may run inside
		// another route's callback (gossip), under that route's fire lock.
		r.recordReason(conn.SlowConsumerPendingBytes)
		r.cl.goRoutine(func() { r.Close(conn.SlowConsumerPendingBytes) })
	}
	return true
}

// writeLoop writes queued output until the route is closing and its
// output is flushed (or the flush is skipped), then closes the socket.
func (r *Route) writeLoop() {
	defer r.goroutineDone()
	deadline := r.cl.writeDeadline()
	r.mu.Lock()
	for {
		for len(r.out) == 0 && r.State() < Closing {
			r.wake.Wait()
		}
		if len(r.out) == 0 || (r.State() >= Closing && r.skipFlush()) {
			break
		}
		buf := r.out
		r.out = r.spare[:0]
		nc := r.nc
		r.mu.Unlock()
		if deadline > 0 {
			nc.SetWriteDeadline(time.Now().Add(deadline))
		}
		_, err := nc.Write(buf)
		r.mu.Lock()
		r.spare = buf[:0]
		r.openStall()
		if err != nil {
			r.mu.Unlock()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				r.Close(conn.SlowConsumerWriteDeadline)
			} else {
				r.Close(conn.WriteError)
			}
			r.mu.Lock()
			break
		}
	}
	nc := r.nc
	r.mu.Unlock()
	nc.Close()
}

// readLoop reads and parses until the socket fails or the route is closing.
func (r *Route) readLoop() {
	defer r.goroutineDone()
	cfg := r.cl.config()
	p := newParser(cfg.maxControlLine(), int(max(cfg.MaxPending, 64<<20)))
	h := (*routeHandler)(r)
	if sh := r.cl.router.sh; sh != nil {
		r.prod = conn.NewProducer(sh, true)
	}
	buf := make([]byte, 32*1024)
	received := false
	for {
		n, err := r.nc.Read(buf)
		if n > 0 && !received {
			received = true
			if !r.checkFirstByte(buf[0]) {
				return
			}
		}
		if n > 0 {
			r.last.Store(time.Now().UnixNano())
			perr := p.parse(buf[:n], h)
			if r.prod != nil {
				r.prod.Flush()
			}
			if perr != nil {
				r.protocolError(perr)
				return
			}
		}
		if err != nil {
			if st := r.State(); st == Handshaking || st == Active {
				r.logReadError(err, received)
				if errors.Is(err, io.EOF) {
					r.Close(conn.ClientClosed)
				} else {
					r.Close(conn.ReadError)
				}
			}
			return
		}
		if st := r.State(); st != Handshaking && st != Active {
			return
		}
	}
}

// errClosed is returned by a handler that already answered and closed.
var errClosed = errors.New("route closed")

// protocolError turns a parser or handler error into nats-server's -ERR
// and close reason.
func (r *Route) protocolError(err error) {
	var pe *protoError
	switch {
	case errors.Is(err, errClosed):
	case errors.As(err, &pe):
		switch pe.kind {
		case errUnknownOp:
			r.closeWithError("Unknown Protocol Operation", conn.ProtocolViolation)
		case errMaxControlLine:
			r.closeWithError("maximum control line exceeded", conn.MaxControlLineExceeded)
		case errMaxPayload:
			r.closeWithError("Maximum Payload Violation", conn.MaxPayloadExceeded)
		default:
			r.Close(conn.ProtocolViolation)
		}
		r.cl.log.Errorf("%s - Route protocol error: %v", r, err)
	default:
		r.cl.log.Errorf("%s - Route protocol error: %v", r, err)
		r.Close(conn.ProtocolViolation)
	}
}

// goroutineDone is called by the reader and the writer as they return;
// the last one moves the route to Closed.
func (r *Route) goroutineDone() {
	if r.live.Add(-1) == 0 {
		r.mu.Lock()
		nc := r.nc
		r.mu.Unlock()
		nc.Close()
		r.fire(EventDone, "")
	}
}

// String names the route in logs as nats-server does: "host:port - rid:N".
func (r *Route) String() string {
	r.mu.Lock()
	host, port := r.host, r.port
	u := r.url
	r.mu.Unlock()
	if host == "" && u != nil {
		return u.Host + " - rid:" + strconv.FormatUint(r.rid, 10)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)) + " - rid:" + strconv.FormatUint(r.rid, 10)
}

// setConn attaches the socket and records the remote address.
func (r *Route) setConn(nc net.Conn) {
	r.mu.Lock()
	r.nc = nc
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		r.host, r.port = a.IP.String(), a.Port
	} else if a := nc.RemoteAddr(); a != nil {
		if h, p, err := net.SplitHostPort(a.String()); err == nil {
			r.host = h
			r.port, _ = strconv.Atoi(p)
		}
	}
	r.mu.Unlock()
}
