package conn

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/sirupsen/logrus"
)

// handshake runs the server side of the TLS handshake, as nats-server
// does. By default the queued INFO goes out in the clear and the client
// starts the handshake after reading it (tls_required). With TLSFirst the
// handshake comes first and INFO stays queued for the writer, which sends
// it encrypted. With AllowNonTLS the INFO goes out in the clear and the
// first bytes the client sends decide: a TLS record starts a handshake,
// anything else (or nothing within the TLS timeout) goes on in the clear.
// It runs on the reader's goroutine before the writer exists, so it writes
// the socket itself. On failure the connection closes with
// TLSHandshakeError (which skips the flush: nothing more can be sent).
func (c *Conn) handshake() {
	deadline := time.Now().Add(c.cfg.TLSTimeout)
	c.nc.SetDeadline(deadline)
	var under net.Conn = c.nc
	if !c.cfg.TLSFirst {
		c.mu.Lock()
		info := c.out.take()
		c.mu.Unlock()
		if _, err := c.nc.Write(info); err != nil {
			c.Close(WriteError)
			return
		}
		if c.cfg.AllowNonTLS {
			var first [1]byte
			n, _ := c.nc.Read(first[:])
			if n == 0 || first[0] != 0x16 {
				c.nc.SetDeadline(time.Time{})
				c.rw = &prefixConn{Conn: c.nc, pre: first[:n]}
				return
			}
			under = &prefixConn{Conn: c.nc, pre: first[:n]}
		}
	}
	tc := tls.Server(under, c.cfg.TLS)
	if err := tc.Handshake(); err != nil {
		if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) {
			log.Debugf("%s - cid:%d - TLS handshake error: %v", c.hostPort(), c.cid, err)
		}
		c.Close(TLSHandshakeError)
		return
	}
	c.nc.SetDeadline(time.Time{})
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
		c.auth.cert = certs[0]
	}
	c.rw = tc
}

// prefixConn is a connection whose first bytes were already read: they
// are returned before the rest.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
