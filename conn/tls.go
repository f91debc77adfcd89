package conn

import (
	"crypto/tls"
	"time"

	"github.com/sirupsen/logrus"
)

// handshake sends the queued INFO in the clear and runs the server side of
// the TLS handshake the client starts after reading it (tls_required), as
// nats-server does. It runs on the reader's goroutine before the writer
// exists, so it writes the socket itself. On failure the connection closes
// with TLSHandshakeError (which skips the flush: nothing more can be sent).
func (c *Conn) handshake() {
	deadline := time.Now().Add(c.cfg.TLSTimeout)
	c.mu.Lock()
	info := c.out.take()
	c.mu.Unlock()
	c.nc.SetDeadline(deadline)
	if _, err := c.nc.Write(info); err != nil {
		c.Close(WriteError)
		return
	}
	tc := tls.Server(c.nc, c.cfg.TLS)
	if err := tc.Handshake(); err != nil {
		if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) {
			log.Debugf("%s - cid:%d - TLS handshake error: %v", c.hostPort(), c.cid, err)
		}
		c.Close(TLSHandshakeError)
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.rw = tc
}
