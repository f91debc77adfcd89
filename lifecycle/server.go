package lifecycle

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/looplab/fsm"
	"github.com/nats-io/nkeys"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/conn/subject"
	"github.com/natsd/natsd/internal/machine"
	"github.com/natsd/natsd/listener"
	"github.com/sirupsen/logrus"
)

// Version is natsd's version, reported in INFO and by --version.
var Version = "0.1.0"

// historySize is how many transitions the server keeps for monitoring.
const historySize = 64

// Server is one natsd server. Its life is the declared [Machine]; every
// request that moves it (start, reload, lame duck, shutdown) goes through
// one goroutine, the lifecycle loop, which owns the looplab/fsm instance.
type Server struct {
	log     *logrus.Logger
	rnd     *rand.Rand
	id      nkeys.KeyPair
	pubKey  string
	started time.Time

	opts atomic.Pointer[Options]
	tls  *tls.Config                 // client TLS, nil without; fixed for the server's life
	cfg  atomic.Pointer[conn.Config] // what new connections get

	fsm     *fsm.FSM // touched only by the lifecycle loop
	reqs    chan request
	done    chan struct{} // closed on entering Stopped
	current atomic.Pointer[stateSince]
	history *machine.History

	stats  conn.Stats
	shared *conn.Shared
	cids   atomic.Uint64
	total  atomic.Int64 // connections ever accepted

	closedBy closedTally // closed connections per close reason, for /lifecyclez

	// mu guards what the transitions and the accept loop share.
	mu          sync.Mutex
	clients     map[uint64]*conn.Conn
	closed      *closedRing
	ln          *listener.Listener
	extra       []extraListener // monitoring, profiling
	pidFile     string
	portsFile   string
	ports       Ports
	drainCancel context.CancelFunc

	// loops tracks the server's own goroutines (lame-duck drain, extra
	// listeners), joined on shutdown.
	loops sync.WaitGroup
}

type stateSince struct {
	State State
	Since time.Time
}

type request struct {
	event string
	cause string
	arg   any
	reply chan error
}

// extraListener is a listener the server owns besides the client one
// (monitoring, profiling): bound in before_start, served from
// enter_listening, closed at the end of shutdown.
type extraListener struct {
	name  string
	serve func()       // runs until close; tracked by Server.loops
	close func() error // stops serve and releases the socket
}

// New validates opts, creates the server identity (an NKey pair whose public
// key is the server_id) and starts the lifecycle loop. The server is in
// Init; call [Server.Start].
func New(opts *Options) (*Server, error) {
	o := *opts
	o.SetDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	if o.ServerName == "" {
		o.ServerName = pub
	}
	if o.ProgName == "" {
		o.ProgName = filepath.Base(os.Args[0])
	}
	s := &Server{
		log:     o.Log,
		rnd:     o.Rand,
		id:      kp,
		pubKey:  pub,
		reqs:    make(chan request),
		done:    make(chan struct{}),
		history: machine.NewHistory(historySize),
		clients: make(map[uint64]*conn.Conn),
		closed:  newClosedRing(o.MaxClosedClients),
	}
	if s.log == nil {
		s.log = logrus.New()
	}
	if s.rnd == nil {
		s.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s.shared = &conn.Shared{
		Index:    subject.NewIndex[*conn.Subscription](),
		Stats:    &s.stats,
		Log:      s.log,
		OnClosed: s.onConnClosed,
	}
	if s.tls, err = TLSConfig(&o); err != nil {
		return nil, err
	}
	s.opts.Store(&o)
	s.current.Store(&stateSince{State: Init, Since: time.Now()})
	s.fsm, err = Machine.NewFSM(fsm.Callbacks{
		"before_" + EventStart:           s.beforeStart,
		"enter_" + Listening.String():    s.enterListening,
		"before_" + EventReload:          s.beforeReload,
		"after_" + EventReload:           s.afterReload,
		"enter_" + LameDuck.String():     s.enterLameDuck,
		"leave_" + LameDuck.String():     s.leaveLameDuck,
		"enter_" + ShuttingDown.String(): s.enterShuttingDown,
		"enter_" + Stopped.String():      s.enterStopped,
		"leave_state":                    s.leaveState,
	})
	if err != nil {
		return nil, err
	}
	go s.loop()
	return s, nil
}

// loop is the lifecycle loop: the only goroutine that fires events on the
// looplab/fsm instance. It returns once the server is Stopped.
//
// When a service manager is notified, the loop also sends the heartbeat
// (watchdog ping, status line, drain timeout extension) on every tick, so
// a wedged loop stops the pings and systemd restarts natsd.
func (s *Server) loop() {
	tick := s.newHeartbeatTicker()
	defer tick.Stop()
	for {
		select {
		case r := <-s.reqs:
			r.reply <- s.handle(r)
		case <-tick.C:
			s.heartbeat()
		case <-s.done:
			return
		}
	}
}

// handle fires one requested event and turns looplab/fsm's outcomes into
// natsd's rules: shutdown is idempotent, lame duck after lame duck or
// during shutdown is ignored, anything else not allowed is an error naming
// the state and the event.
func (s *Server) handle(r request) error {
	st := s.State()
	if done, err := s.answerWithoutTransition(st, r.event, r.cause); done {
		return err
	}
	err := s.fsm.Event(context.Background(), r.event, r, r.arg)
	var (
		noTransition fsm.NoTransitionError
		invalid      fsm.InvalidEventError
		canceled     fsm.CanceledError
	)
	switch {
	case err == nil, errors.As(err, &noTransition) && noTransition.Err == nil:
		err = nil
	case errors.As(err, &invalid):
		return fmt.Errorf("%s refused: the server is %s", r.event, st)
	case errors.As(err, &canceled):
		if r.event == EventReload {
			s.notifyReloaded()
		}
		return canceled.Err
	default:
		return err
	}
	if r.event == EventReload {
		s.notifyReloaded()
	}
	if r.event == EventShutdown {
		if err := s.fsm.Event(context.Background(), EventStopped, request{event: EventStopped, cause: "shutdown complete"}); err != nil {
			panic(fmt.Sprintf("invalid transition [%s -> %s]: %v", s.State(), Stopped, err))
		}
	}
	return nil
}

// request hands an event to the lifecycle loop and waits for its outcome.
// Once the server is Stopped it answers without the loop: nil for shutdown
// and lame duck, an error naming the state otherwise.
//
// While shutting down the loop is busy in the shutdown callback (up to
// shutdown_timeout), and nothing but stopped can follow, so a request then
// is answered at once, without waiting for the loop: a signal handler
// asking for a reload or a lame duck is never held up by a shutdown.
func (s *Server) request(event, cause string, arg any) error {
	if done, err := s.answerWithoutTransition(s.State(), event, cause); done {
		return err
	}
	r := request{event: event, cause: cause, arg: arg, reply: make(chan error, 1)}
	select {
	case s.reqs <- r:
		return <-r.reply
	case <-s.done:
		return s.request(event, cause, arg) // answered as Stopped above
	}
}

// answerWithoutTransition applies natsd's rules for a request that moves
// nothing: shutdown while shutting down or stopped succeeds (the caller
// waits for Stopped), lame duck in lame duck or later is ignored, and any
// other event while shutting down or stopped is refused naming the state.
// It reports whether it answered. Both the caller of a request and the
// lifecycle loop (for requests queued before the state changed) use it.
func (s *Server) answerWithoutTransition(st State, event, cause string) (bool, error) {
	switch {
	case event == EventShutdown && (st == ShuttingDown || st == Stopped):
		return true, nil
	case event == EventEnterLameDuck && (st == LameDuck || st == ShuttingDown || st == Stopped):
		s.log.Infof("Lame duck request ignored in state %s (%s)", st, cause)
		return true, nil
	case st == ShuttingDown || st == Stopped:
		return true, fmt.Errorf("%s refused: the server is %s", event, st)
	}
	return false, nil
}

// Start binds the listeners, writes the PID and ports files and starts
// serving. A failure to start (port in use, bad address, unwritable file)
// leaves nothing bound and no file behind, shuts the server down and is
// returned. Start in any state but Init is refused.
func (s *Server) Start() error {
	err := s.request(EventStart, "start", nil)
	if err != nil && s.State() == Init {
		s.request(EventShutdown, "start failed", nil)
	}
	return err
}

// Shutdown shuts the server down gracefully and returns when it is
// Stopped. It is idempotent: a second call waits for the first and returns
// nil. During lame duck it cuts the drain short.
func (s *Server) Shutdown() error { return s.ShutdownCause("api") }

// ShutdownCause is [Server.Shutdown] with the cause recorded in the
// transition log and history (for example "signal SIGTERM").
func (s *Server) ShutdownCause(cause string) error {
	err := s.request(EventShutdown, cause, nil)
	<-s.done
	return err
}

// EnterLameDuck starts lame-duck mode and returns at once; the drain runs in
// the background and ends in shutdown. It is an error before Start, and
// ignored during lame duck or shutdown.
func (s *Server) EnterLameDuck() error { return s.EnterLameDuckCause("api") }

// EnterLameDuckCause is [Server.EnterLameDuck] with the cause recorded.
func (s *Server) EnterLameDuckCause(cause string) error {
	return s.request(EventEnterLameDuck, cause, nil)
}

// WaitForShutdown blocks until the server is Stopped.
func (s *Server) WaitForShutdown() { <-s.done }

// Done is closed when the server is Stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// State returns the current state and when it was entered, without
// blocking.
func (s *Server) State() State { return s.current.Load().State }

// StateSince returns the current state and the time it was entered.
func (s *Server) StateSince() (State, time.Time) {
	c := s.current.Load()
	return c.State, c.Since
}

// History returns the last transitions, oldest first.
func (s *Server) History() []machine.Transition { return s.history.Snapshot() }

// ID returns the server id: the public key of the server's NKey.
func (s *Server) ID() string { return s.pubKey }

// Options returns a copy of the running options.
func (s *Server) Options() Options { return *s.opts.Load() }

// Stats returns the server-wide counters.
func (s *Server) Stats() *conn.Stats { return &s.stats }

// StartTime returns when the server entered Listening.
func (s *Server) StartTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// TotalConnections returns how many connections were ever accepted.
func (s *Server) TotalConnections() int64 { return s.total.Load() }

// Ports returns the URLs written to the ports file.
func (s *Server) Ports() Ports {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ports
}

// Addr returns the client listener's address, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Port returns the client listener's port (resolved for -1), or 0.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return 0
	}
	return s.ln.Port()
}

// ClientURL returns nats://host:port for the client listener, with a
// loopback host when it listens on every interface.
func (s *Server) ClientURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	a := s.ln.Addr()
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("nats://%s", joinHostPort(host, a.Port))
}

// NumClients returns the number of registered (open or closing) clients.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Clients returns the registered clients.
func (s *Server) Clients() []*conn.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn.Conn, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

// NumSubscriptions returns the number of subscriptions in the index.
func (s *Server) NumSubscriptions() int { return s.shared.Index.Count() }

// Closed returns snapshots of the recently closed connections, oldest
// first.
func (s *Server) Closed() []conn.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed.list()
}

// leaveState is the generic leave callback: the transition will happen, so
// record it, publish the new state and log it. It runs under s.mu so that a
// connection registering concurrently sees either the old state or the new
// one, never a mix.
func (s *Server) leaveState(_ context.Context, e *fsm.Event) {
	r := e.Args[0].(request)
	to := stateFromName(e.Dst)
	now := time.Now()
	s.mu.Lock()
	s.current.Store(&stateSince{State: to, Since: now})
	s.mu.Unlock()
	s.history.Record(machine.Transition{From: e.Src, To: e.Dst, Event: e.Event, Cause: r.cause, At: now})
	s.log.Infof("Server state %s -> %s (event %s, cause: %s)", e.Src, e.Dst, e.Event, r.cause)
	s.notifyState(to, now)
}

func stateFromName(name string) State {
	for i, n := range stateNames {
		if n == name {
			return State(i)
		}
	}
	panic(fmt.Sprintf("undeclared state %q", name))
}

// connConfig builds what new connections get from the options.
func (s *Server) connConfig(o *Options, port int) *conn.Config {
	return &conn.Config{
		MaxControlLine:  o.MaxControlLine,
		MaxPayload:      o.MaxPayload,
		MaxPending:      o.MaxPending,
		MaxSubs:         o.MaxSubs,
		WriteDeadline:   o.WriteDeadline,
		PingInterval:    o.PingInterval,
		PingMax:         o.PingMax,
		MaxTracedMsgLen: o.MaxTracedMsgLen,
		Info: conn.Info{
			ServerID:    s.pubKey,
			ServerName:  o.ServerName,
			Version:     Version,
			Proto:       1,
			Go:          runtime.Version(),
			Host:        o.Host,
			Port:        port,
			Headers:     true,
			MaxPayload:  o.MaxPayload,
			TLSRequired: s.clientTLS(o) != nil,
			TLSVerify:   o.TLSVerify,
		},
		TLS:        s.clientTLS(o),
		TLSTimeout: o.TLSTimeout,
	}
}
