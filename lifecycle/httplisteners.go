package lifecycle

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/lifecycle/monitor"
	"github.com/natsd/natsd/listener"
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
		ln, err := s.bindSocket(SocketHTTP, o.HTTPHost, o.HTTPPort)
		if err != nil {
			return fail(fmt.Errorf("monitoring: %w", err))
		}
		addr := ln.Addr().(*net.TCPAddr)
		h := monitor.New(monitorSource{s: s, httpPort: addr.Port})
		s.sys.mon = h // the system account's requests read the same data
		msg := fmt.Sprintf("Starting http monitor on %s", joinHostPort(o.HTTPHost, addr.Port))
		bound = append(bound, s.httpListener("monitoring", ln, h, msg))
		ports.Monitoring = urlsFor("http", addr)
	}
	if o.HTTPSPort != 0 {
		ln, err := s.bindSocket(SocketHTTPS, o.HTTPHost, o.HTTPSPort)
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
		ln, err := s.bindSocket(SocketProf, o.Host, o.ProfPort)
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

// listenTCP binds host:port (-1: a random free port) through the server's
// Listen seam. The error is one line naming the address once.
func (s *Server) listenTCP(host string, port int) (net.Listener, error) {
	return listener.Bind(s.deps.Listen, host, port)
}

// httpListener serves h on ln. Its close stops accepting, lets requests
// under way finish for up to httpCloseGrace, then cuts them off, and
// releases the socket, whether or not serve ever ran. Its release only
// closes the socket and turns keep-alives off: net/http's Shutdown would
// hang up on a connection it accepted whose request it has not read yet,
// and after a handoff every such request is still answered.
func (s *Server) httpListener(name string, ln net.Listener, h http.Handler, startMsg string) extraListener {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(httpErrorLog{s.log, name}, "", 0),
	}
	var released atomic.Bool
	return extraListener{
		name:     name,
		startMsg: startMsg,
		serve: func() error {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) || (released.Load() && errors.Is(err, net.ErrClosed)) {
				return nil
			}
			return err
		},
		release: func() {
			released.Store(true)
			srv.SetKeepAlivesEnabled(false) // also closes the idle connections
			ln.Close()
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
