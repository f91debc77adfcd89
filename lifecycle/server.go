package lifecycle

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
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
	"github.com/natsd/natsd/route"
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
	deps    Deps           // as given to New, with defaults filled in
	log     *logrus.Logger // deps.Log
	rnd     *rand.Rand     // the lame-duck drain's source: deps.Rand
	id      nkeys.KeyPair
	pubKey  string
	started time.Time

	opts atomic.Pointer[Options]
	tls  *tls.Config                 // client TLS, nil without; fixed for the server's life
	cfg  atomic.Pointer[conn.Config] // what new connections get

	fsm *fsm.FSM // touched only by the lifecycle loop
	// after is what the callbacks of the transition under way left to run
	// once it is complete (see afterTransition); lifecycle loop only.
	after []func()
	reqs  chan request
	done  chan struct{} // closed on entering Stopped
	// stopping is closed on entering ShuttingDown, so that a serving loop
	// that fails then does not wait to ask for a shutdown under way.
	stopping chan struct{}
	current  atomic.Pointer[stateSince]
	history  *machine.History

	stats  conn.Stats
	shared *conn.Shared
	cids   atomic.Uint64
	total  atomic.Int64 // connections ever accepted

	closedBy closedTally // closed connections per close reason, for /lifecyclez

	cl  clusterState // the routes to other servers (cluster.go)
	sys systemState  // the system account's internal client (system.go)

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

	// Touched by the lifecycle loop only (its callbacks).
	socks    []Socket    // every listening socket, for an upgrade (before_start)
	up       *upgradeRun // the upgrade under way, in Upgrading
	notifier Notifier    // deps.Notifier until a handoff gives the service to the new process

	// loops tracks the server's own goroutines (lame-duck drain, extra
	// listeners), joined on shutdown.
	loops sync.WaitGroup
}

type stateSince struct {
	State State
	Since time.Time
	Event string // the event that led to State
}

// request is one event asked of the lifecycle loop. It is the only
// argument the loop hands to looplab/fsm, so every callback reads it with
// [requestOf].
type request struct {
	event   string
	cause   string
	reload  *reloadPlan // reload only
	upgrade *upgradeRun // upgrade, handoff and rollback only
	reply   chan error
}

// requestOf returns the request an event was fired for.
func requestOf(e *fsm.Event) request { return e.Args[0].(request) }

// extraListener is a listener the server owns besides the client one
// (monitoring, profiling): bound in before_start, served from
// enter_listening, closed at the end of shutdown.
type extraListener struct {
	name     string
	startMsg string       // logged as it starts serving
	serve    func() error // runs until close (then nil); see Server.serveActor
	close    func() error // stops serve and releases the socket
	// release stops accepting on a socket another process now serves
	// (an upgrade's handoff), answering the connections already
	// accepted, each for one last request; serve then returns nil and
	// close still ends the rest.
	release func()
}

// New validates opts, creates the server identity (an NKey pair whose public
// key is the server_id) and starts the lifecycle loop. The server is in
// Init; call [Server.Start]. opts is copied; deps are what the server runs
// with (see [Deps]; the zero value is ready to use).
func New(opts *Options, deps Deps) (*Server, error) {
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
	deps = deps.withDefaults()
	s := &Server{
		deps:     deps,
		log:      deps.Log,
		rnd:      deps.Rand,
		id:       kp,
		pubKey:   pub,
		reqs:     make(chan request),
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
		history:  machine.NewHistory(historySize),
		clients:  make(map[uint64]*conn.Conn),
		closed:   newClosedRing(o.MaxClosedClients),
		notifier: deps.Notifier,
	}
	s.shared = &conn.Shared{
		Index:    subject.NewIndex[*conn.Subscription](),
		Stats:    &s.stats,
		Log:      s.log,
		Rand:     connRand(deps.Rand),
		OnClosed: s.onConnClosed,
		// The system account's events (system.go).
		OnConnect:   s.sysConnected,
		OnAuthError: s.sysAuthFailed,
	}
	if o.Cluster.Enabled() {
		// Before the accounts: their imports' interest is counted too.
		s.cl.router = route.NewRouter(s.shared, s.log)
		s.shared.Router = s.cl.router
	}
	if s.tls, err = TLSConfig(&o); err != nil {
		return nil, err
	}
	routeTLS, err := ClusterTLSConfig(&o)
	if err != nil {
		return nil, err
	}
	s.cl.tls.Store(routeTLS)
	if err := s.applyAccounts(&o); err != nil {
		return nil, err
	}
	if err := s.applySecurity(&o); err != nil {
		return nil, err
	}
	s.opts.Store(&o)
	s.current.Store(&stateSince{State: Init, Since: time.Now()})
	s.fsm, err = Machine.NewFSM(fsm.Callbacks{
		"before_" + EventStart:           s.beforeStart,
		"enter_" + Listening.String():    s.enterListening,
		"before_" + EventReload:          s.beforeReload,
		"after_" + EventReload:           s.afterReload,
		"before_" + EventUpgrade:         s.beforeUpgrade,
		"enter_" + Upgrading.String():    s.enterUpgrading,
		"leave_" + Upgrading.String():    s.leaveUpgrading,
		"before_" + EventHandoff:         s.beforeHandoff,
		"before_" + EventRollback:        s.beforeRollback,
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

// handle fires one requested event, answering as the declaration says: a
// declared transition runs; a request the declaration ignores, answers as
// idempotent or refuses moves nothing (see [Server.answer]).
func (s *Server) handle(r request) error {
	st := s.State()
	if done, err := s.answer(Machine.Answer(st.String(), r.event), st, r); done {
		return err
	}
	err := s.fsm.Event(context.Background(), r.event, r)
	s.runAfterTransition()
	var (
		noTransition fsm.NoTransitionError
		canceled     fsm.CanceledError
	)
	switch {
	case err == nil, errors.As(err, &noTransition) && noTransition.Err == nil:
		err = nil
	case errors.As(err, &canceled):
		if r.event == EventReload {
			s.notifyReloaded()
		}
		return canceled.Err
	default:
		// The declaration says the event moves; looplab/fsm, built from
		// the same declaration, must agree.
		panic(fmt.Sprintf("invalid transition [%s -%s->]: %v", st, r.event, err))
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

// afterTransition queues f to run on the lifecycle loop once the
// transition under way is complete, its new state published and recorded:
// for a callback that answers someone waiting on the transition (an
// upgrade's outcome) and must not answer before the state says so. Only
// callbacks, on the lifecycle loop, call it.
func (s *Server) afterTransition(f func()) { s.after = append(s.after, f) }

// runAfterTransition runs what the callbacks of the transition just made
// queued with [Server.afterTransition].
func (s *Server) runAfterTransition() {
	after := s.after
	s.after = nil
	for _, f := range after {
		f()
	}
}

// request hands an event to the lifecycle loop and waits for its outcome.
// A request whose answer no later state can change ([machine.Spec.Settled]:
// a lame duck in lame duck or after, a shutdown while shutting down, any
// other request while shutting down or stopped) is answered at once,
// without the loop: the loop is busy in the shutdown callback for up to
// shutdown_timeout, and a signal handler asking for a reload or a lame
// duck is never held up by it. Any other request is answered by the loop,
// in the state the server is in when it gets there.
func (s *Server) request(r request) error {
	st := s.State()
	if a, settled := Machine.Settled(st.String(), r.event); settled {
		_, err := s.answer(a, st, r)
		return err
	}
	r.reply = make(chan error, 1)
	select {
	case s.reqs <- r:
		return <-r.reply
	case <-s.done:
		return s.request(r) // Stopped: every answer is settled
	}
}

// answer carries out the declaration's answer a to r in state st when it
// moves nothing, and reports whether it did: ignored (logged) and
// idempotent requests succeed, refused ones get an error naming the event
// and the state.
func (s *Server) answer(a machine.Answer, st State, r request) (bool, error) {
	switch a {
	case machine.Move:
		return false, nil
	case machine.Ignore:
		s.log.Infof("%s request ignored in state %s (%s)", r.event, st, r.cause)
		return true, nil
	case machine.Idempotent:
		return true, nil
	default:
		return true, fmt.Errorf("%s refused: the server is %s", r.event, st)
	}
}

// Start binds the listeners (or takes them from [Deps.Inherited]), writes
// the PID and ports files and starts serving. A failure to start (port in
// use, bad address, unwritable file) leaves nothing bound and no file
// behind, shuts the server down and is returned. Start in any state but
// Init is refused.
func (s *Server) Start() error {
	cause := "start"
	if in := s.deps.Inherited; in != nil {
		cause = "inherited sockets from " + in.Source()
	}
	err := s.request(request{event: EventStart, cause: cause})
	if err != nil && s.State() == Init {
		s.request(request{event: EventShutdown, cause: "start failed"})
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
	err := s.request(request{event: EventShutdown, cause: cause})
	<-s.done
	return err
}

// EnterLameDuck starts lame-duck mode and returns at once; the drain runs in
// the background and ends in shutdown. It is an error before Start, and
// ignored during lame duck or shutdown.
func (s *Server) EnterLameDuck() error { return s.EnterLameDuckCause("api") }

// EnterLameDuckCause is [Server.EnterLameDuck] with the cause recorded.
func (s *Server) EnterLameDuckCause(cause string) error {
	return s.request(request{event: EventEnterLameDuck, cause: cause})
}

// WaitForShutdown blocks until the server is Stopped.
func (s *Server) WaitForShutdown() { <-s.done }

// Done is closed when the server is Stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// State returns the current state without blocking (see
// [Server.StateSince] for when it was entered).
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
	return s.clientsLocked()
}

// clientsLocked copies the registered clients (s.mu held), so the caller
// can act on them without the lock.
func (s *Server) clientsLocked() []*conn.Conn {
	out := make([]*conn.Conn, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

// NumSubscriptions returns the number of subscriptions in the index.
func (s *Server) NumSubscriptions() int { return s.shared.Accounts.Load().NumSubscriptions() }

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
	to := stateFromName(e.Dst)
	now := time.Now()
	s.mu.Lock()
	s.current.Store(&stateSince{State: to, Since: now, Event: e.Event})
	s.mu.Unlock()
	s.record(e, requestOf(e).cause, now, "")
	s.notifyState(to, now)
}

// record adds the transition e, made at now, to the history and logs it at
// info level, with what it changed if that is given.
func (s *Server) record(e *fsm.Event, cause string, now time.Time, changed string) {
	t := machine.Transition{From: e.Src, To: e.Dst, Event: e.Event, Cause: cause, At: now}
	s.history.Record(t)
	s.publishTransition(t)
	if changed != "" {
		s.log.Infof("Server state %s -> %s (event %s, cause: %s): %s", e.Src, e.Dst, e.Event, cause, changed)
	} else {
		s.log.Infof("Server state %s -> %s (event %s, cause: %s)", e.Src, e.Dst, e.Event, cause)
	}
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
	cfg := &conn.Config{
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
			ConnectURLs: s.connectURLs(),
		},
		TLS:        s.clientTLS(o),
		TLSTimeout: o.TLSTimeout,
	}
	tlsModes(o, cfg)
	return cfg
}
