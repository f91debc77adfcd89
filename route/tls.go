package route

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/natsd/natsd/conn"
)

// run drives a route whose socket is up, on the dialler's or the accept
// handler's goroutine, which becomes the route's reader: straight to
// Handshaking without cluster TLS; with it, through Securing and the TLS
// handshake first, before anything else is written, as nats-server does
// on both accepted and solicited routes. A route the server no longer
// wants (cancelled, shutting down) is dropped with its socket.
func (r *Route) run(nc net.Conn, cause string) {
	r.setConn(nc)
	cfg := r.cl.config()
	if cfg.TLS == nil {
		if !r.fire(EventConnected, cause) {
			nc.Close()
			return
		}
		r.readLoop()
		return
	}
	if !r.fire(EventStartTLS, cause) {
		nc.Close()
		return
	}
	if !r.secure(cfg) {
		r.goroutineDone()
		return
	}
	r.readLoop()
}

// secure runs the TLS handshake of a route in Securing, within the cluster
// TLS timeout: as the TLS client on a route this server dialled (verifying
// the remote's certificate against the CA, for the server name the route
// URL gives), as the TLS server on an accepted one (requiring the remote's
// certificate). On success the route reads and writes through TLS and moves
// to Handshaking; on failure it is closed with TLSHandshakeError, logged at
// error level as nats-server logs it, and a solicited route reconnects as
// after any other close. It reports whether the route goes on.
func (r *Route) secure(cfg *Config) bool {
	r.mu.Lock()
	nc, solicited, u := r.nc, r.solicited, r.url
	r.mu.Unlock()
	var tc *tls.Conn
	serverName := ""
	if solicited {
		c := cfg.TLS.Clone()
		if c.ServerName == "" {
			serverName = r.cl.tlsServerName(u)
			c.ServerName = serverName
		}
		r.cl.log.Debugf("%s - Starting TLS route client handshake", r)
		tc = tls.Client(nc, c)
	} else {
		r.cl.log.Debugf("%s - Starting TLS route server handshake", r)
		tc = tls.Server(nc, cfg.TLS)
	}
	nc.SetDeadline(time.Now().Add(cfg.tlsTimeout()))
	if err := tc.Handshake(); err != nil {
		if serverName != "" {
			r.cl.tlsNameFailed(serverName, err)
		}
		if r.State() == Securing {
			r.cl.log.Errorf("%s - TLS route handshake error: %v%s", r, err, unverified(err))
		} else {
			r.cl.log.Debugf("%s - TLS route handshake ended by the route's close: %v", r, err)
		}
		r.Close(conn.TLSHandshakeError)
		return false
	}
	nc.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	r.cl.log.Debugf("%s - TLS handshake complete", r)
	r.cl.log.Debugf("%s - TLS version %s, cipher suite %s", r, tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite))
	r.mu.Lock()
	r.nc, r.secured = tc, true
	r.mu.Unlock()
	return r.fire(EventSecured, tls.VersionName(cs.Version))
}

// tlsRecordHandshake is the first byte of a TLS handshake record.
const tlsRecordHandshake = 0x16

// checkFirstByte looks at the first byte a plain route received: a TLS
// handshake record means the remote has cluster TLS and this server has
// not, which is logged as such and closes the route (there is no point in
// parsing it, nor in answering in the clear). It reports whether the
// route goes on.
func (r *Route) checkFirstByte(b byte) bool {
	r.mu.Lock()
	secured := r.secured
	r.mu.Unlock()
	if secured || b != tlsRecordHandshake {
		return true
	}
	r.cl.log.Errorf("%s - Route protocol error: the remote started a TLS handshake, but cluster tls is not configured on this server", r)
	r.Close(conn.ProtocolViolation)
	return false
}

// logReadError says why reading a route failed, for the cases the close
// reason alone leaves unclear: a TLS alert from the remote (with TLS 1.3
// the accepting side checks this server's certificate after this side's
// handshake completed, so its refusal arrives on the first read), and a
// plain route this server dialled closed by the remote before it sent
// anything, which is what a remote with cluster TLS does. Other errors are
// logged at debug level.
func (r *Route) logReadError(err error, received bool) {
	r.mu.Lock()
	secured, solicited := r.secured, r.solicited
	r.mu.Unlock()
	var oe *net.OpError
	switch {
	case secured && errors.As(err, &oe) && oe.Op == "remote error":
		r.cl.log.Errorf("%s - TLS route error: %v", r, err)
	case !secured && solicited && !received && errors.Is(err, io.EOF) && r.State() == Handshaking:
		r.cl.log.Errorf("%s - Route closed by the remote before it sent anything (a remote with cluster tls closes a route that does not start TLS; cluster tls is not configured on this server)", r)
	case !errors.Is(err, io.EOF):
		r.cl.log.Debugf("%s - Route read error: %v", r, err)
	}
}

// unverified names the certificates a verification refused, with their
// SHA-256 fingerprints, as nats-server's handshake error does; "" for
// another error.
func unverified(err error) string {
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) || len(ve.UnverifiedCertificates) == 0 {
		return ""
	}
	subjs := make([]string, 0, len(ve.UnverifiedCertificates))
	for _, c := range ve.UnverifiedCertificates {
		fp := sha256.Sum256(c.Raw)
		subjs = append(subjs, fmt.Sprintf("%s SHA-256: %s", c.Subject.String(), hex.EncodeToString(fp[:])))
	}
	return " (" + strings.Join(subjs, "; ") + ")"
}

// saveTLSNameLocked remembers the first host name (not an IP) of routes,
// unless one is remembered already: a dialled route whose URL has an IP
// (a gossiped one, typically) verifies the remote's certificate for that
// name, as nats-server's routeTLSName. c.mu is held.
func (c *Cluster) saveTLSNameLocked(routes []*url.URL) {
	for _, u := range routes {
		if c.tlsName == "" && net.ParseIP(u.Hostname()) == nil {
			c.tlsName = u.Hostname()
		}
	}
}

// tlsServerName is the server name a route dialling u verifies.
func (c *Cluster) tlsServerName(u *url.URL) string {
	host := u.Hostname()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tlsName != "" && net.ParseIP(host) != nil {
		return c.tlsName
	}
	return host
}

// tlsNameFailed forgets the remembered name when a handshake that used it
// failed on the host name, as nats-server does (its issue 1256): the next
// dial of an IP verifies the IP itself.
func (c *Cluster) tlsNameFailed(name string, err error) {
	var he x509.HostnameError
	if !errors.As(err, &he) {
		return
	}
	c.mu.Lock()
	if c.tlsName == name {
		c.tlsName = ""
	}
	c.mu.Unlock()
}
