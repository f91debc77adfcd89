package route

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/testcert"
	"gotest.tools/v3/assert"
)

// Cluster TLS against scripted peers: the handshake comes first, before
// any INFO, on accepted and dialled routes; the INFO and CONNECT say so;
// a failed or late handshake closes the route with TLSHandshakeError.

// startTLSCluster is a cluster whose routes use certs' route certificate.
func startTLSCluster(t *testing.T, certs testcert.Files, mod func(*Config)) *testCluster {
	t.Helper()
	return startCluster(t, func(c *Config) {
		c.TLS = certs.RouteConfig(t, certs.RouteCert, certs.RouteKey)
		c.TLSTimeout = time.Second
		if mod != nil {
			mod(c)
		}
	})
}

// tlsClient makes a TLS client handshake on nc as a peer dialling the
// cluster, presenting cert.
func tlsClient(t *testing.T, certs testcert.Files, nc net.Conn, cert, key string) *tls.Conn {
	t.Helper()
	c := certs.RouteConfig(t, cert, key)
	c.ServerName = "127.0.0.1"
	tc := tls.Client(nc, c)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	return tc
}

func TestTLSRouteAccepted(t *testing.T) {
	certs := testcert.Write(t)
	tc := startTLSCluster(t, certs, nil)
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tc.port))
	assert.NilError(t, err)
	// The handshake is the first thing on the wire: a plain INFO before it
	// would fail the client's handshake.
	c := tlsClient(t, certs, nc, certs.RouteCert, certs.RouteKey)
	assert.NilError(t, c.Handshake())
	p := newPeer(t, c)
	info := p.info()
	assert.Assert(t, info.TLSRequired && info.TLSVerify, "INFO %+v", info)
	p.send("%s%s", strings.Replace(peerConnect("NPEER1", ""), `"tls_required":false`, `"tls_required":true`, 1), peerInfo("NPEER1", "peer1", 7000))
	waitFor(t, "the TLS route registered", func() bool { return len(tc.activeIDs()) == 1 })
	tc.waitLog("Route state connecting -> securing (event start_tls")
	tc.waitLog("Route state securing -> handshaking (event secured")
	// The route carries protocol over TLS: a PING is answered.
	p.send("PING\r\n")
	for l := p.line(); l != "PONG"; l = p.line() {
	}
}

func TestTLSRouteSolicited(t *testing.T) {
	certs := testcert.Write(t)
	ln, addr := listenPeer(t)
	startTLSCluster(t, certs, func(c *Config) {
		u, _ := url.Parse("nats-route://" + addr)
		c.Routes = []*url.URL{u}
	})
	raw := acceptPeer(t, ln)
	c := tls.Server(raw.nc, certs.RouteConfig(t, certs.RouteCert, certs.RouteKey))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	assert.NilError(t, c.Handshake())
	// The cluster verified this peer's certificate for the URL's host and
	// presented its own.
	assert.Equal(t, len(c.ConnectionState().PeerCertificates) > 0, true)
	p := newPeer(t, c)
	l := p.lineSkippingPings()
	assert.Assert(t, strings.HasPrefix(l, "CONNECT {"), l)
	var ci connectInfo
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "CONNECT ")), &ci))
	assert.Assert(t, ci.TLS, "CONNECT %s", l)
	info := p.info()
	assert.Assert(t, info.TLSRequired && info.TLSVerify, "INFO %+v", info)
}

// TestTLSRouteHandshakeFailures: every way a handshake fails closes the
// route with TLSHandshakeError, logs it at error level, sends nothing in
// the clear, and a dialled route dials again.
func TestTLSRouteHandshakeFailures(t *testing.T) {
	certs := testcert.Write(t)
	t.Run("accepted", func(t *testing.T) {
		cases := []struct {
			name string
			peer func(t *testing.T, nc net.Conn)
			log  string
		}{
			{"plain peer", func(t *testing.T, nc net.Conn) {
				fmt.Fprint(nc, peerConnect("NPLAIN", ""))
			}, "TLS route handshake error: tls: first record does not look like a TLS handshake"},
			{"untrusted certificate", func(t *testing.T, nc net.Conn) {
				// Presented even though the cluster asks for its CA (crypto/tls
				// would otherwise send no certificate).
				c := certs.RouteConfig(t, certs.UntrustedCert, certs.UntrustedKey)
				pair := c.Certificates[0]
				c.Certificates, c.ServerName = nil, "127.0.0.1"
				c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
				tc := tls.Client(nc, c)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				tc.Handshake()
				tc.Read(make([]byte, 1))
			}, "certificate signed by unknown authority (CN=untrusted SHA-256: "},
			{"no certificate", func(t *testing.T, nc net.Conn) {
				c := certs.RouteConfig(t, certs.RouteCert, certs.RouteKey)
				c.Certificates, c.ServerName = nil, "127.0.0.1"
				tc := tls.Client(nc, c)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				tc.Handshake()
				tc.Read(make([]byte, 1))
			}, "client didn't provide a certificate"},
			{"silent peer", func(t *testing.T, nc net.Conn) {}, "i/o timeout"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tc := startTLSCluster(t, certs, func(cfg *Config) { cfg.TLSTimeout = 200 * time.Millisecond })
				nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tc.port))
				assert.NilError(t, err)
				defer nc.Close()
				c.peer(t, nc)
				tc.closedFor(conn.TLSHandshakeError, 1)
				tc.waitLog(c.log)
				assert.Assert(t, !strings.Contains(tc.logs.String(), "INFO {"), "an INFO went out:\n%s", tc.logs.String())
				assert.Equal(t, len(tc.activeIDs()), 0)
			})
		}
	})
	t.Run("dialled", func(t *testing.T) {
		cases := []struct {
			name string
			peer func(t *testing.T, nc net.Conn)
			log  string
		}{
			{"plain peer", func(t *testing.T, nc net.Conn) {
				fmt.Fprint(nc, peerInfo("NPLAIN", "plain", 7000))
			}, "TLS route handshake error: tls: first record does not look like a TLS handshake"},
			{"untrusted certificate", func(t *testing.T, nc net.Conn) {
				c := tls.Server(nc, certs.RouteConfig(t, certs.UntrustedCert, certs.UntrustedKey))
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.Handshake()
			}, "certificate signed by unknown authority (CN=untrusted SHA-256: "},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ln, addr := listenPeer(t)
				tc := startTLSCluster(t, certs, func(cfg *Config) {
					u, _ := url.Parse("nats-route://" + addr)
					cfg.Routes = []*url.URL{u}
				})
				p := acceptPeer(t, ln)
				c.peer(t, p.nc)
				tc.closedFor(conn.TLSHandshakeError, 1)
				tc.waitLog(c.log)
				// The explicit route dials again, as after any close.
				acceptPeer(t, ln)
				assert.Equal(t, len(tc.activeIDs()), 0)
			})
		}
	})
}

// TestTLSServerName: a dialled route verifies the URL's host; for an IP,
// the first host name of the explicit routes, until a handshake fails on
// that name.
func TestTLSServerName(t *testing.T) {
	c := New(&Config{}, nil, Hooks{}, nil)
	parse := func(s string) *url.URL {
		u, err := url.Parse(s)
		assert.NilError(t, err)
		return u
	}
	assert.Equal(t, c.tlsServerName(parse("nats-route://127.0.0.1:1")), "127.0.0.1")
	c.saveTLSNameLocked([]*url.URL{parse("nats-route://10.0.0.1:1"), parse("nats-route://seed.example:1"), parse("nats-route://other.example:1")})
	assert.Equal(t, c.tlsName, "seed.example")
	assert.Equal(t, c.tlsServerName(parse("nats-route://127.0.0.1:1")), "seed.example")
	assert.Equal(t, c.tlsServerName(parse("nats-route://other.example:1")), "other.example")
	c.tlsNameFailed("seed.example", fmt.Errorf("other: %w", x509.UnknownAuthorityError{}))
	assert.Equal(t, c.tlsName, "seed.example", "only a host name error forgets the name")
	c.tlsNameFailed("seed.example", fmt.Errorf("wrapped: %w", x509.HostnameError{Host: "seed.example"}))
	assert.Equal(t, c.tlsServerName(parse("nats-route://127.0.0.1:1")), "127.0.0.1")
}

// TestPlainRouteMeetsTLS: a cluster without TLS facing a peer with it says
// so in its log and closes the route, accepted or dialled.
func TestPlainRouteMeetsTLS(t *testing.T) {
	certs := testcert.Write(t)
	t.Run("accepted", func(t *testing.T) {
		tc := startCluster(t, nil)
		nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tc.port))
		assert.NilError(t, err)
		defer nc.Close()
		c := tlsClient(t, certs, nc, certs.RouteCert, certs.RouteKey)
		assert.ErrorContains(t, c.Handshake(), "first record does not look like a TLS handshake")
		tc.closedFor(conn.ProtocolViolation, 1)
		tc.waitLog("Route protocol error: the remote started a TLS handshake, but cluster tls is not configured on this server")
	})
	t.Run("dialled", func(t *testing.T) {
		ln, addr := listenPeer(t)
		tc := startCluster(t, func(cfg *Config) {
			u, _ := url.Parse("nats-route://" + addr)
			cfg.Routes = []*url.URL{u}
		})
		p := acceptPeer(t, ln)
		// A TLS peer reads the plain CONNECT as a bad record and closes.
		c := tls.Server(p.nc, certs.RouteConfig(t, certs.RouteCert, certs.RouteKey))
		c.SetDeadline(time.Now().Add(5 * time.Second))
		assert.ErrorContains(t, c.Handshake(), "first record does not look like a TLS handshake")
		p.nc.Close()
		tc.closedFor(conn.ClientClosed, 1)
		tc.waitLog("Route closed by the remote before it sent anything")
		acceptPeer(t, ln) // and dials again
	})
}
