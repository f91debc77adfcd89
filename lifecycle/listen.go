package lifecycle

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/listener"
)

// beforeStart binds the listeners (or takes the inherited ones) and writes
// the PID and ports files. Any failure cancels the start, with everything
// bound closed and everything written removed.
func (s *Server) beforeStart(_ context.Context, e *fsm.Event) {
	o := s.opts.Load()
	s.socks = nil
	sock, err := s.bindSocket(SocketClient, o.Host, o.Port)
	if err != nil {
		e.Cancel(err)
		return
	}
	ln := listener.New(sock, listener.WithErrorLog(func(err error, delay time.Duration) {
		s.log.Errorf("Temporary client accept error (%v), sleeping %v", err, delay)
	}))
	ports := Ports{Nats: urlsFor("nats", ln.Addr())}
	extra, err := s.bindExtraListeners(o, &ports)
	if err != nil {
		ln.Close()
		ln.Wait()
		e.Cancel(err)
		return
	}
	undoCluster, err := s.bindCluster(o, ln.Port(), &ports)
	if err != nil {
		ln.Close()
		ln.Wait()
		for _, x := range extra {
			x.close()
		}
		e.Cancel(err)
		return
	}
	undo := func() {
		ln.Close()
		ln.Wait()
		for _, x := range extra {
			x.close()
		}
		undoCluster()
	}
	parent := 0
	if in := s.deps.Inherited; in != nil {
		parent = in.ParentPID()
		if err := in.Done(); err != nil {
			undo()
			e.Cancel(err)
			return
		}
	}
	pidFile := o.PidFile
	if pidFile != "" {
		// The natsd this one replaces still runs and owns the file.
		if err := writePidFile(pidFile, parent); err != nil {
			undo()
			e.Cancel(err)
			return
		}
	}
	portsFile := portsFilePath(o.PortsFileDir, s.deps.ProgName)
	if portsFile != "" {
		if err := writePortsFile(portsFile, ports); err != nil {
			undo()
			removeFile(pidFile)
			e.Cancel(err)
			return
		}
	}
	s.cfg.Store(s.connConfig(o, ln.Port()))
	s.mu.Lock()
	s.ln = ln
	s.extra = extra
	s.pidFile = pidFile
	s.portsFile = portsFile
	s.ports = ports
	s.started = time.Now()
	s.mu.Unlock()
}

// bindSocket returns the listening socket called name for host:port: the
// inherited one when this process was handed it, else one bound through
// the Listen seam. It is recorded for a later upgrade.
func (s *Server) bindSocket(name, host string, port int) (net.Listener, error) {
	var sock net.Listener
	if in := s.deps.Inherited; in != nil {
		l, err := in.Listener(name, port)
		if err != nil {
			return nil, err
		}
		if l != nil {
			s.log.Infof("Using the %s socket %s inherited from %s", name, l.Addr(), in.Source())
		}
		sock = l
	}
	if sock == nil {
		l, err := s.listenTCP(host, port)
		if err != nil {
			return nil, err
		}
		sock = l
	}
	s.socks = append(s.socks, Socket{Name: name, Listener: sock})
	return sock, nil
}

// enterListening starts serving on every listener bound in before_start
// (monitoring and profiling first, then the accept loop), and only then
// says the server is ready: in the log, as nats-server's order, and to the
// service manager (READY=1). Every socket was bound before, so each serves
// from the moment it is announced. Back from a failed upgrade (rollback)
// it does nothing: every listener kept serving.
func (s *Server) enterListening(_ context.Context, e *fsm.Event) {
	if e.Event != EventStart {
		return
	}
	s.mu.Lock()
	ln := s.ln
	extra := s.extra
	s.mu.Unlock()
	for _, x := range extra {
		s.log.Infof("%s", x.startMsg)
		s.serveActor(x.name+" listener", x.serve)
	}
	s.startSystem()
	s.log.Infof("Listening for client connections on %s", joinHostPort(s.opts.Load().Host, ln.Port()))
	s.serveCluster()
	s.serveActor("client accept loop", func() error { return ln.Serve(s.serveConn) })
	s.log.Infof("Server is ready")
	s.notifyReady()
}

// serveActor runs serve, one of the server's serving loops, in a goroutine
// the server tracks. serve returns nil once its listener is closed; any
// other return means the server no longer serves what it announced, so, as
// the first actor out of an oklog/run group stops the rest, the failure is
// logged and the server shuts down with it as the cause (rather than
// staying listening, and healthy to /healthz, while nothing accepts). A
// failure once the server is shutting down anyway only ends the loop.
func (s *Server) serveActor(name string, serve func() error) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		err := serve()
		if err == nil {
			return
		}
		s.log.Errorf("The %s stopped: %v", name, err)
		r := request{event: EventShutdown, cause: name + " failed: " + err.Error(), reply: make(chan error, 1)}
		select {
		case s.reqs <- r:
		case <-s.stopping:
		}
	}()
}

// serveConn runs one accepted connection on the accept loop's tracked
// goroutine. A connection accepted when the server no longer listens, or
// over max_connections, is refused as nats-server refuses it. One accepted
// as the server handed its sockets over is served: the kernel gave it to
// this process, and the new one cannot answer it.
func (s *Server) serveConn(nc net.Conn) {
	s.total.Add(1)
	c := conn.New(s.cids.Add(1), nc, s.cfg.Load(), s.shared)
	maxConn := s.opts.Load().MaxConn
	var refuse conn.ClosedState
	s.mu.Lock()
	switch cur := s.current.Load(); {
	case cur.State != Listening && cur.State != Upgrading && (cur.State != LameDuck || cur.Event != EventHandoff):
		refuse = conn.ServerShutdown
	case maxConn > 0 && len(s.clients) >= maxConn:
		refuse = conn.MaxConnectionsExceeded
	default:
		s.clients[c.CID()] = c
	}
	s.mu.Unlock()
	switch refuse {
	case conn.MaxConnectionsExceeded:
		s.log.Errorf("%s - maximum connections exceeded", nc.RemoteAddr())
		c.CloseWithError("maximum connections exceeded", refuse)
	case conn.ServerShutdown:
		c.Close(refuse)
	}
	c.Run(s.ln.Go)
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
