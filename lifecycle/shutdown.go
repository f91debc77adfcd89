package lifecycle

import (
	"context"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/conn"
)

// enterShuttingDown performs the graceful shutdown, in this order:
//
//  0. Publish the system account's SHUTDOWN event and wait (up to a
//     second) until it is queued to its subscribers, so step 2 flushes it
//     to them.
//  1. Stop accepting clients: close the client listener (release it, when
//     it was inherited, so that a client already taken from its queue is
//     answered rather than dropped). Stop accepting
//     and dialling routes; the routes that are up stay up.
//  2. Close every client with ServerShutdown; each flushes its pending
//     output first unless a skip-flush reason was recorded.
//  3. Wait for every connection to reach Closed, up to shutdown_timeout;
//     then force-close the rest without flushing and log how many. Then
//     close the routes with ServerShutdown, after the clients (so what
//     the clients published last still reaches the other servers),
//     flushing within what is left of shutdown_timeout.
//  4. Close every other listener the server owns (monitoring, profiling):
//     they answer until here, so probes see shutting_down to the end.
//  5. Join every goroutine: accept loop, connection readers and writers,
//     the lame-duck drain, the extra listeners' loops, the system
//     account's internal client. (Entering this state
//     first releases a serving loop that failed meanwhile from its request
//     for a shutdown.)
//  6. Remove the ports file, and the PID file if it still holds this
//     process's PID (after an upgrade it holds the new process's).
//
// The server then fires stopped, which releases WaitForShutdown.
func (s *Server) enterShuttingDown(_ context.Context, _ *fsm.Event) {
	close(s.stopping)
	o := s.opts.Load()
	s.mu.Lock()
	ln := s.ln
	extra := s.extra
	s.extra = nil
	clients := s.clientsLocked()
	pidFile, portsFile := s.pidFile, s.portsFile
	s.mu.Unlock()

	// 0.
	s.shutdownSystem()

	// 1.
	if ln != nil {
		if s.deps.Inherited != nil {
			// The socket outlives this process (systemd holds it for the
			// next start): a connection the accept loop already took from
			// its queue is answered (INFO, then the shutdown close) rather
			// than dropped unserved.
			ln.Release()
		} else {
			ln.Close()
		}
	}
	s.stopCluster()
	deadline := time.Now().Add(o.ShutdownTimeout)

	// 2.
	for _, c := range clients {
		c.Close(conn.ServerShutdown)
	}

	// 3.
	if ln != nil {
		joined := make(chan struct{})
		go func() {
			ln.Wait()
			close(joined)
		}()
		deadline := time.NewTimer(o.ShutdownTimeout)
		tick := s.newHeartbeatTicker()
	wait:
		for {
			select {
			case <-joined:
				deadline.Stop()
				break wait
			case <-tick.C:
				// This callback runs on the lifecycle loop: keep the
				// service manager's watchdog and stop timeout fed.
				s.heartbeat()
			case <-deadline.C:
				forced := 0
				for _, c := range s.Clients() {
					c.Abort()
					forced++
				}
				s.log.Warnf("Shutdown timeout (%v) reached: %d connection(s) closed without flushing", o.ShutdownTimeout, forced)
				<-joined
				break wait
			}
		}
		tick.Stop()
	}
	s.closeRoutes(deadline)

	// 4.
	for _, x := range extra {
		if err := x.close(); err != nil {
			s.log.Warnf("Closing %s listener: %v", x.name, err)
		}
	}

	// 5.
	s.stopSystem()
	s.loops.Wait()

	// 6.
	if err := removeFile(portsFile); err != nil {
		s.log.Errorf("Removing %s: %v", portsFile, err)
	}
	if err := removeOwnPidFile(pidFile); err != nil {
		s.log.Errorf("Removing %s: %v", pidFile, err)
	}
	s.mu.Lock()
	s.pidFile, s.portsFile = "", ""
	s.mu.Unlock()
	s.log.Infof("Server Exiting..")
}

// RemoveFiles removes the PID and ports files now, best effort. It is for
// a process about to exit without finishing its shutdown (the operator's
// second SIGINT), so that it leaves no stale file behind.
func (s *Server) RemoveFiles() {
	s.mu.Lock()
	pidFile, portsFile := s.pidFile, s.portsFile
	s.mu.Unlock()
	removeFile(portsFile)
	removeOwnPidFile(pidFile)
}

// enterStopped releases WaitForShutdown.
func (s *Server) enterStopped(_ context.Context, _ *fsm.Event) {
	close(s.done)
}
