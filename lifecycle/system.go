package lifecycle

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/machine"
	"github.com/natsd/natsd/lifecycle/monitor"
	"github.com/natsd/natsd/system"
)

// systemState is the server's part of the system account: its internal
// client (package system), started on entering listening and stopped by
// the shutdown, and what the lame-duck request answers.
type systemState struct {
	c atomic.Pointer[system.Client] // nil before listening and without a system account
	// mon is the monitoring handler the HTTP listener serves, reused for
	// the requests' data (so http_req_stats reads the same); set by
	// before_start, nil without monitoring.
	mon *monitor.Monitor
	// plan is the drain under way, set on entering lame duck.
	plan atomic.Pointer[system.DrainPlan]
}

// shutdownEventWait is how long the shutdown waits for the SHUTDOWN event
// to be queued to its subscribers, as nats-server's flush of it.
const shutdownEventWait = time.Second

// startSystem starts the system account's internal client, unless the
// system account is turned off (enter_listening, before the accept loop).
func (s *Server) startSystem() {
	o := s.opts.Load()
	if o.systemAccount() == "" || s.shared.Accounts.Load().System() == nil {
		return
	}
	mon := s.sys.mon
	if mon == nil {
		mon = monitor.New(monitorSource{s: s})
	}
	cluster := ""
	if o.Cluster.Enabled() {
		cluster = o.Cluster.Name
	}
	c := system.New(system.Config{
		ID: s.pubKey, Name: o.ServerName, Host: o.Host, Cluster: cluster, Version: Version,
		Shared: s.shared, ConnConfig: s.cfg.Load(), Monitor: mon, Admin: sysAdmin{s}, Log: s.log,
	})
	if err := c.Start(); err != nil {
		s.log.Errorf("System account: %v", err)
		return
	}
	s.sys.c.Store(c)
}

// sysConnected is every connection's hook once its CONNECT is accepted.
func (s *Server) sysConnected(c *conn.Conn) {
	if sc := s.sys.c.Load(); sc != nil {
		sc.Connected(c)
	}
}

// sysAuthFailed is every connection's hook when it fails to authenticate.
func (s *Server) sysAuthFailed(c *conn.Conn) {
	if sc := s.sys.c.Load(); sc != nil {
		sc.AuthFailed(c)
	}
}

// sysDisconnected publishes a closed connection's DISCONNECT event.
func (s *Server) sysDisconnected(snap conn.Snapshot) {
	if sc := s.sys.c.Load(); sc != nil {
		sc.Disconnected(snap)
	}
}

// publishTransition publishes a recorded transition as natsd's LIFECYCLE
// event; entering lame duck is announced first with nats-server's
// LAMEDUCK event, so a watcher reads LAMEDUCK, then the transitions, then
// SHUTDOWN.
func (s *Server) publishTransition(t machine.Transition) {
	sc := s.sys.c.Load()
	if sc == nil {
		return
	}
	if t.To == LameDuck.String() && t.From != LameDuck.String() {
		sc.LameDuck()
	}
	sc.Transition(t)
}

// shutdownSystem publishes the SHUTDOWN event and waits until it is queued
// to every subscriber (shutdown, before any connection is closed).
func (s *Server) shutdownSystem() {
	if sc := s.sys.c.Load(); sc != nil {
		sc.Shutdown(shutdownEventWait)
	}
}

// stopSystem stops the internal client and joins its goroutines.
func (s *Server) stopSystem() {
	if sc := s.sys.c.Load(); sc != nil {
		sc.Stop()
	}
}

// isSystemClient reports whether c is a client of the system account.
func (s *Server) isSystemClient(c *conn.Conn) bool {
	sys := s.shared.Accounts.Load().System()
	return sys != nil && c.Account() == sys.Name()
}

// sysAdmin carries out the system account's requests that act on the
// server.
type sysAdmin struct{ s *Server }

var _ system.Admin = sysAdmin{}

// client returns the registered client with id cid.
func (a sysAdmin) client(cid uint64) *conn.Conn {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.s.clients[cid]
}

// Kick closes one client, as nats-server's KICK: close reason Kicked.
func (a sysAdmin) Kick(cid uint64) error {
	c := a.client(cid)
	if c == nil {
		return errors.New("no such client or leafnode id")
	}
	c.Close(conn.Kicked)
	return nil
}

// LameDuckClient sends one client the lame-duck INFO, if it understands
// an asynchronous INFO.
func (a sysAdmin) LameDuckClient(cid uint64) error {
	c := a.client(cid)
	if c == nil {
		return errors.New("no such client id")
	}
	if c.Protocol() < 1 {
		return errors.New("client does not support Lame Duck Mode or is not ready to receive the notification")
	}
	c.SendLameDuckInfo()
	return nil
}

// EnterLameDuck asks for lame duck as SIGUSR2 does and returns the plan of
// the drain under way. It never waits for a shutdown under way (which
// stops the internal client that asks): from shutting down it is refused.
func (a sysAdmin) EnterLameDuck(cause string) (*system.DrainPlan, error) {
	s := a.s
	r := request{event: EventEnterLameDuck, cause: cause}
	st := s.State()
	var err error
	if ans, settled := Machine.Settled(st.String(), r.event); settled {
		_, err = s.answer(ans, st, r)
	} else {
		r.reply = make(chan error, 1)
		select {
		case s.reqs <- r:
			err = <-r.reply
		case <-s.stopping:
		}
	}
	if err != nil {
		return nil, err
	}
	if st := s.State(); st != LameDuck {
		return nil, fmt.Errorf("%s refused: the server is %s", EventEnterLameDuck, st)
	}
	plan := *s.sys.plan.Load()
	plan.State = LameDuck.String()
	return &plan, nil
}
