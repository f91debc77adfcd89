package system

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/lifecycle/monitor"
	"github.com/sirupsen/logrus"
)

// Config is what a system client is built with.
type Config struct {
	// ID, Name, Host, Cluster and Version identify the server in every
	// message (the server object); Host is the client listen host.
	ID, Name, Host, Cluster, Version string
	// Shared is what the server's connections share: the accounts (the
	// system account among them) and the counters.
	Shared *conn.Shared
	// ConnConfig names the server when the client's requests reach a
	// service import (Nats-Request-Info).
	ConnConfig *conn.Config
	// Monitor builds the data of VARZ, CONNZ, SUBSZ, ROUTEZ, ACCOUNTZ,
	// HEALTHZ, LIFECYCLEZ and STATSZ.
	Monitor *monitor.Monitor
	// Admin carries out the requests that act on the server.
	Admin Admin
	Log   *logrus.Logger
	// StatszFirst is when the first STATSZ goes out after Start; the
	// interval then doubles up to StatszMax. Zero: 250 ms and 10 s, as
	// nats-server's.
	StatszFirst, StatszMax time.Duration
	// ConnsHeartbeat is how often an account's connection count is
	// published while it has connections. Zero: 30 s, as nats-server's.
	ConnsHeartbeat time.Duration
	// OrphanAfter is how long another server may stay silent before it
	// no longer counts as active; OrphanSweep how often that is checked.
	// Zero: DefaultOrphanAfter and DefaultOrphanSweep.
	OrphanAfter, OrphanSweep time.Duration
}

// Defaults of [Config], as nats-server's.
const (
	DefaultStatszFirst    = 250 * time.Millisecond
	DefaultStatszMax      = 10 * time.Second
	DefaultConnsHeartbeat = 30 * time.Second
)

// Admin is what the server does for the requests that act on it.
type Admin interface {
	// Kick closes the client with id cid (close reason Kicked).
	Kick(cid uint64) error
	// LameDuckClient sends the client with id cid the lame-duck INFO.
	LameDuckClient(cid uint64) error
	// EnterLameDuck puts the server into lame duck and returns the plan of
	// the drain under way.
	EnterLameDuck(cause string) (*DrainPlan, error)
}

// Client is the system account's internal client of one server. Create it
// with [New], start it with [Client.Start]; [Client.Shutdown] publishes
// the SHUTDOWN event and [Client.Stop] ends it. Its event methods may be
// called from any goroutine, before Start (they do nothing) and after Stop
// (likewise).
type Client struct {
	cfg   Config
	pub   *conn.Internal
	sendq *queue[*outMsg]
	recvq *queue[*inMsg]
	seq   atomic.Uint64
	quit  chan struct{}
	wg    sync.WaitGroup

	started, stopped atomic.Bool
	stopOnce         sync.Once
	shutOnce         sync.Once

	subs  []*conn.Subscription // the internal subscriptions; Start and Stop only
	nsubs atomic.Int64         // len(subs) while started, for readers

	mu      sync.Mutex
	conns   map[string]int    // connections per account, counted from CONNECT to close
	connAcc map[uint64]string // the account each counted connection is in

	remotes map[string]remoteServer // the other servers heard from, by id; work loop only
}

// outMsg is one message on the send queue.
type outMsg struct {
	subj, reply string
	si          *ServerInfo // stamped (seq, time) as it is sent
	v           any         // marshalled as it is sent
	gzip        bool        // compress, with Content-Encoding: gzip
	done        chan struct{}
}

// inMsg is one message on the receive queue: a request copied off the
// publisher's goroutine.
type inMsg struct {
	handle       func(*Client, *inMsg)
	subj, reply  string
	hdr, payload []byte
}

// New returns the system client of the server cfg describes; the system
// account must exist in cfg.Shared's accounts.
func New(cfg Config) *Client {
	if cfg.StatszFirst <= 0 {
		cfg.StatszFirst = DefaultStatszFirst
	}
	if cfg.StatszMax <= 0 {
		cfg.StatszMax = DefaultStatszMax
	}
	if cfg.ConnsHeartbeat <= 0 {
		cfg.ConnsHeartbeat = DefaultConnsHeartbeat
	}
	if cfg.OrphanAfter <= 0 {
		cfg.OrphanAfter = DefaultOrphanAfter
	}
	if cfg.OrphanSweep <= 0 {
		cfg.OrphanSweep = DefaultOrphanSweep
	}
	if cfg.ConnConfig == nil {
		cfg.ConnConfig = &conn.Config{}
	}
	c := &Client{
		cfg:     cfg,
		sendq:   newQueue[*outMsg](),
		recvq:   newQueue[*inMsg](),
		quit:    make(chan struct{}),
		conns:   map[string]int{},
		connAcc: map[uint64]string{},
		remotes: map[string]remoteServer{},
	}
	c.pub = conn.NewInternal(cfg.Shared, cfg.ConnConfig, c.account())
	return c
}

// account returns the system account (the same value across reloads).
func (c *Client) account() *conn.Account { return c.cfg.Shared.Accounts.Load().System() }

// Start places the internal subscriptions of every request and starts the
// work and send loops; the first STATSZ follows after StatszFirst.
func (c *Client) Start() error {
	acc := c.account()
	sid := 0
	sub := func(subject string, h func(*Client, *inMsg)) error {
		sid++
		s, err := acc.SubscribeInternal(subject, strconv.Itoa(sid), c.receiver(h))
		if err != nil {
			return err
		}
		c.subs = append(c.subs, s)
		return nil
	}
	if err := sub(pingSubject, (*Client).statszReq); err != nil {
		c.unsubscribe()
		return err
	}
	for _, r := range remoteSubs {
		if err := sub(r.subject, r.handle); err != nil {
			c.unsubscribe()
			return err
		}
	}
	for _, r := range Requests {
		for _, subj := range subjectsFor(r, c.cfg.ID) {
			if err := sub(subj, handlers[r.Kind]); err != nil {
				c.unsubscribe()
				return err
			}
		}
	}
	c.nsubs.Store(int64(len(c.subs)))
	c.started.Store(true)
	c.wg.Add(2)
	go c.workLoop()
	go c.sendLoop()
	return nil
}

// receiver returns the internal subscription's handler: it copies the
// message onto the receive queue, on the publisher's goroutine.
func (c *Client) receiver(h func(*Client, *inMsg)) conn.InternalHandler {
	return func(subj, reply, hdr, payload []byte) {
		m := &inMsg{handle: h, subj: string(subj), reply: string(reply), payload: bytes.Clone(payload)}
		if len(hdr) > 0 {
			m.hdr = bytes.Clone(hdr)
		}
		if ok, first := c.recvq.push(m); !ok && first {
			c.cfg.Log.Warnf("System account: more than %d requests waiting, dropping requests", QueueLimit)
		}
	}
}

// Shutdown publishes the SHUTDOWN event as the client's last message and
// returns once it is queued to every subscriber, or after timeout; from
// then on events are dropped, while requests already queued are still
// read (their answers are dropped too). It is safe to call more than once.
func (c *Client) Shutdown(timeout time.Duration) {
	if !c.started.Load() {
		return
	}
	c.shutOnce.Do(func() {
		subj := serverSubject(c.cfg.ID, "SHUTDOWN")
		if !c.interested(subj) {
			c.sendq.close()
			return
		}
		m := &outMsg{subj: subj, done: make(chan struct{})}
		si := &ServerInfo{}
		m.si, m.v = si, si
		c.send(m)
		c.sendq.close()
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-m.done:
		case <-t.C:
			c.cfg.Log.Warnf("System account: the shutdown event was not sent within %v", timeout)
		case <-c.quit:
		}
	})
}

// Stop ends the work and send loops, waits for them and removes the
// internal subscriptions. It is safe to call more than once.
func (c *Client) Stop() {
	c.stopOnce.Do(func() {
		c.stopped.Store(true)
		c.nsubs.Store(0)
		c.sendq.close()
		c.recvq.close()
		close(c.quit)
		c.wg.Wait()
		c.unsubscribe()
	})
}

func (c *Client) unsubscribe() {
	acc := c.account()
	for _, s := range c.subs {
		acc.UnsubscribeInternal(s)
	}
	c.subs = nil
}

// workLoop runs the requests, the STATSZ timer and the account
// connections heartbeat, one at a time.
func (c *Client) workLoop() {
	defer c.wg.Done()
	every := c.cfg.StatszFirst
	statsz := time.NewTimer(every)
	defer statsz.Stop()
	hb := time.NewTicker(c.cfg.ConnsHeartbeat)
	defer hb.Stop()
	sweep := time.NewTicker(c.cfg.OrphanSweep)
	defer sweep.Stop()
	for {
		select {
		case <-c.recvq.ready:
			for _, m := range c.recvq.pop() {
				m.handle(c, m)
			}
		case <-statsz.C:
			c.broadcastStatsz()
			every = nextStatsz(every, c.cfg.StatszMax)
			statsz.Reset(every)
		case <-hb.C:
			c.connsHeartbeat()
		case now := <-sweep.C:
			c.sweepRemotes(now)
		case <-c.quit:
			return
		}
	}
}

// nextStatsz is the STATSZ interval after cur: doubled, up to max.
func nextStatsz(cur, max time.Duration) time.Duration { return min(2*cur, max) }

// sendLoop publishes what is queued, in order.
func (c *Client) sendLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.sendq.ready:
			for _, m := range c.sendq.pop() {
				c.publish(m)
			}
		case <-c.quit:
			return
		}
	}
}

// send queues m for the send loop.
func (c *Client) send(m *outMsg) {
	if !c.started.Load() || c.stopped.Load() {
		return
	}
	if ok, first := c.sendq.push(m); !ok && first {
		c.cfg.Log.Warnf("System account: more than %d messages waiting to be sent, dropping messages", QueueLimit)
	}
}

// gzipHeader is the header block of a compressed answer.
var gzipHeader = []byte("NATS/1.0\r\nContent-Encoding: gzip\r\n\r\n")

// publish stamps, marshals and publishes one message in the system
// account.
func (c *Client) publish(m *outMsg) {
	if m.si != nil {
		c.stamp(m.si)
	}
	var b []byte
	switch v := m.v.(type) {
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil { // cannot happen: plain data
			c.cfg.Log.Errorf("System account: marshal %s: %v", m.subj, err)
			return
		}
	}
	var hdr []byte
	if m.gzip {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		b, hdr = buf.Bytes(), gzipHeader
	}
	c.pub.Publish(c.account(), m.subj, m.reply, hdr, b)
	if m.done != nil {
		close(m.done)
	}
}

// stamp fills in the server object as the message leaves.
func (c *Client) stamp(si *ServerInfo) {
	*si = ServerInfo{
		Name: c.cfg.Name, Host: c.cfg.Host, ID: c.cfg.ID, Cluster: c.cfg.Cluster, Version: c.cfg.Version,
		Seq: c.seq.Add(1), Time: time.Now().UTC(),
	}
}

// interested reports whether anyone listens on subj in the system account.
func (c *Client) interested(subj string) bool {
	return c.started.Load() && !c.stopped.Load() && c.account().Interested(subj)
}

// base62 are the characters of event ids.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// eventID returns a new event id: 22 random characters, as long as
// nats-server's.
func eventID() string {
	var b [22]byte
	for i := range b {
		b[i] = base62[rand.IntN(len(base62))]
	}
	return string(b[:])
}

// NumSubscriptions returns the number of the client's internal
// subscriptions (counted in the system account's index, and so in
// /varz's subscriptions, as nats-server counts its own).
func (c *Client) NumSubscriptions() int {
	return int(c.nsubs.Load())
}
