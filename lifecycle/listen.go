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

// beforeStart binds the client listener and writes the PID and ports files.
// Any failure cancels the start, with everything bound closed and everything
// written removed.
func (s *Server) beforeStart(_ context.Context, e *fsm.Event) {
	o := s.opts.Load()
	ln, err := listener.Listen(o.Host, o.Port)
	if err != nil {
		e.Cancel(err)
		return
	}
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
	pidFile := o.PidFile
	if pidFile != "" {
		if err := writePidFile(pidFile); err != nil {
			undo()
			e.Cancel(err)
			return
		}
	}
	portsFile := portsFilePath(o.PortsFileDir, o.ProgName)
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

// enterListening starts the accept loop.
func (s *Server) enterListening(_ context.Context, _ *fsm.Event) {
	s.mu.Lock()
	ln := s.ln
	extra := s.extra
	s.mu.Unlock()
	for _, x := range extra {
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			x.serve()
		}()
	}
	s.log.Infof("Listening for client connections on %s", joinHostPort(s.opts.Load().Host, ln.Port()))
	s.serveCluster()
	s.log.Infof("Server is ready")
	go func() {
		if err := ln.Serve(s.serveConn); err != nil {
			s.log.Errorf("Accept loop stopped: %v", err)
		}
	}()
}

// serveConn runs one accepted connection on the accept loop's tracked
// goroutine. A connection accepted when the server no longer listens, or
// over max_connections, is refused as nats-server refuses it.
func (s *Server) serveConn(nc net.Conn) {
	s.total.Add(1)
	c := conn.New(s.cids.Add(1), nc, s.cfg.Load(), s.shared)
	maxConn := s.opts.Load().MaxConn
	var refuse conn.ClosedState
	s.mu.Lock()
	switch {
	case s.current.Load().State != Listening:
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

// connClosed is called by each connection as it enters Closed.
// The snapshot is taken before the server lock: with thousands of
// connections closing at once (a shutdown), they would otherwise queue on
// that lock while each copies its counters.
func (s *Server) connClosed(c *conn.Conn) {
	snap := c.Snapshot()
	s.mu.Lock()
	delete(s.clients, c.CID())
	s.closed.add(snap)
	s.mu.Unlock()
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
