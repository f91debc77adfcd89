package lifecycle

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/lifecycle/monitor"
	"github.com/sirupsen/logrus"
)

// httpCloseGrace is how long closing the monitoring or profiling listener
// waits for requests under way (a CPU profile, say) before cutting them off.
const httpCloseGrace = time.Second

// bindExtraListeners binds the monitoring listener (http_port on
// http_host) and the profiling listener (prof_port on host) that the
// options ask for, and adds their URLs to ports. If either bind fails,
// whatever was bound is closed again and the error, one line naming the
// listener and the address, is returned.
func (s *Server) bindExtraListeners(o *Options, ports *Ports) ([]extraListener, error) {
	var bound []extraListener
	fail := func(err error) ([]extraListener, error) {
		for _, x := range bound {
			x.close()
		}
		return nil, err
	}
	if o.HTTPPort != 0 {
		ln, err := listenTCP(o.HTTPHost, o.HTTPPort)
		if err != nil {
			return fail(fmt.Errorf("monitoring: %w", err))
		}
		addr := ln.Addr().(*net.TCPAddr)
		h := monitor.New(monitorSource{s: s, httpPort: addr.Port})
		msg := fmt.Sprintf("Starting http monitor on %s", joinHostPort(o.HTTPHost, addr.Port))
		bound = append(bound, s.httpListener("monitoring", ln, h, msg))
		ports.Monitoring = urlsFor("http", addr)
	}
	if o.HTTPSPort != 0 {
		ln, err := listenTCP(o.HTTPHost, o.HTTPSPort)
		if err != nil {
			return fail(fmt.Errorf("monitoring (https): %w", err))
		}
		addr := ln.Addr().(*net.TCPAddr)
		mon := s.tls.Clone()
		mon.ClientAuth = tls.NoClientCert
		h := monitor.New(monitorSource{s: s, httpPort: addr.Port})
		msg := fmt.Sprintf("Starting https monitor on %s", joinHostPort(o.HTTPHost, addr.Port))
		bound = append(bound, s.httpListener("monitoring (https)", tls.NewListener(ln, mon), h, msg))
		ports.Monitoring = append(ports.Monitoring, urlsFor("https", addr)...)
	}
	if o.ProfPort != 0 {
		ln, err := listenTCP(o.Host, o.ProfPort)
		if err != nil {
			return fail(fmt.Errorf("profiling: %w", err))
		}
		addr := ln.Addr().(*net.TCPAddr)
		msg := fmt.Sprintf("Starting profiling on %s (pprof at /debug/pprof/)", joinHostPort(o.Host, addr.Port))
		bound = append(bound, s.httpListener("profiling", ln, monitor.NewProfileHandler(), msg))
		ports.Profile = urlsFor("http", addr)
	}
	return bound, nil
}

// listenTCP binds host:port (-1: a random free port). The error is one
// line naming the address.
func listenTCP(host string, port int) (net.Listener, error) {
	if port == RandomPort {
		port = 0
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Addr != nil {
			return nil, err // already names the address
		}
		return nil, fmt.Errorf("listen tcp %s: %w", addr, unwrapOpError(err))
	}
	return ln, nil
}

func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

// httpListener serves h on ln. Its close stops accepting, lets requests
// under way finish for up to httpCloseGrace, then cuts them off, and
// releases the socket, whether or not serve ever ran.
func (s *Server) httpListener(name string, ln net.Listener, h http.Handler, startMsg string) extraListener {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(httpErrorLog{s.log, name}, "", 0),
	}
	return extraListener{
		name: name,
		serve: func() {
			s.log.Infof("%s", startMsg)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Errorf("The %s listener stopped: %v", name, err)
			}
		},
		close: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), httpCloseGrace)
			defer cancel()
			var err error
			if srv.Shutdown(ctx) != nil {
				srv.Close()
				err = fmt.Errorf("requests still running after %v were cut off", httpCloseGrace)
			}
			// Shutdown closes the socket only if Serve got to it.
			if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
				err = cerr
			}
			return err
		},
	}
}

// httpErrorLog sends net/http's own error lines (bad requests, TLS
// probes) to the server log as warnings.
type httpErrorLog struct {
	log  *logrus.Logger
	name string
}

func (w httpErrorLog) Write(p []byte) (int, error) {
	w.log.Warnf("%s: %s", w.name, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// closedTally counts closed connections per close reason since the server
// was created; index 0 holds any reason outside the known range.
type closedTally [conn.NumClosedStates + 1]atomic.Int64

func (t *closedTally) add(r conn.ClosedState) {
	if r < 0 || int(r) >= len(t) {
		r = 0
	}
	t[r].Add(1)
}

func (t *closedTally) counts() []int64 {
	out := make([]int64, len(t))
	for i := range t {
		out[i] = t[i].Load()
	}
	return out
}

// onConnClosed is every connection's hook on entering Closed: it counts
// the close reason, then lets the registry move the connection to the
// closed ring. Counting first means a reader never sees a connection
// neither registered as open or closing nor counted as closed.
func (s *Server) onConnClosed(c *conn.Conn) {
	s.closedBy.add(c.Reason())
	s.connClosed(c)
}

// monitorSource is what the monitoring endpoints read from the server;
// every method reads atomics or takes s.mu only to copy.
type monitorSource struct {
	s        *Server
	httpPort int // the bound monitoring port
}

var _ monitor.Source = monitorSource{}

func (m monitorSource) Config() monitor.Config {
	s := m.s
	o := s.opts.Load()
	port := o.Port
	if cfg := s.cfg.Load(); cfg != nil {
		port = cfg.Info.Port
	}
	return monitor.Config{
		ServerID:       s.pubKey,
		ServerName:     o.ServerName,
		Version:        Version,
		Proto:          1,
		Host:           o.Host,
		Port:           port,
		HTTPHost:       o.HTTPHost,
		HTTPPort:       m.httpPort,
		MaxConn:        o.MaxConn,
		MaxSubs:        o.MaxSubs,
		MaxPayload:     o.MaxPayload,
		MaxControlLine: o.MaxControlLine,
		MaxPending:     o.MaxPending,
		PingInterval:   o.PingInterval,
		PingMax:        o.PingMax,
		WriteDeadline:  o.WriteDeadline,
		LoadTime:       m.configLoadTime(),
		SystemAccount:  o.SystemAccount,
	}
}

// configLoadTime is when the running options took effect: the last
// accepted reload, or the start.
func (m monitorSource) configLoadTime() time.Time {
	h := m.s.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Event == EventReload || h[i].Event == EventStart {
			return h[i].At
		}
	}
	return m.s.StartTime()
}

func (m monitorSource) State() monitor.State {
	st, since := m.s.StateSince()
	return monitor.State{Name: st.String(), Since: since, Ready: st == Listening}
}

func (m monitorSource) History() []monitor.Transition {
	h := m.s.History()
	out := make([]monitor.Transition, len(h))
	for i, t := range h {
		out[i] = monitor.Transition{From: t.From, To: t.To, Event: t.Event, Cause: t.Cause, At: t.At}
	}
	return out
}

func (m monitorSource) Stats() *conn.Stats      { return m.s.Stats() }
func (m monitorSource) StartTime() time.Time    { return m.s.StartTime() }
func (m monitorSource) TotalConnections() int64 { return m.s.TotalConnections() }
func (m monitorSource) NumSubscriptions() int   { return m.s.NumSubscriptions() }
func (m monitorSource) NumClients() int         { return m.s.NumClients() }
func (m monitorSource) Closed() []conn.Snapshot { return m.s.Closed() }
func (m monitorSource) ClosedCounts() []int64   { return m.s.closedBy.counts() }

func (m monitorSource) ConnStates() (open, closing int) {
	for _, c := range m.s.Clients() {
		switch c.State() {
		case conn.Open:
			open++
		case conn.Closing:
			closing++
		}
	}
	return open, closing
}

// Open snapshots the registered connections, leaving out one that has
// just reached Closed and is on its way to the closed ring (so
// state=any never lists a connection twice).
func (m monitorSource) Open() []conn.Snapshot {
	clients := m.s.Clients()
	out := make([]conn.Snapshot, 0, len(clients))
	for _, c := range clients {
		if snap := c.Snapshot(); snap.State != conn.Closed {
			out = append(out, snap)
		}
	}
	return out
}
