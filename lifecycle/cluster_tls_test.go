package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/testcert"
	"gotest.tools/v3/assert"
)

// withClusterTLS sets cluster TLS with cert and key, verified by certs' CA.
func withClusterTLS(certs testcert.Files, cert, key string) func(*Options) {
	return func(o *Options) {
		c := &o.Cluster
		c.TLS, c.TLSCert, c.TLSKey, c.TLSCACert, c.TLSVerify = true, cert, key, certs.CA, true
	}
}

// TestClusterTLSReload: as nats-server, a reload re-reads the cluster tls
// files and applies them to the routes that connect afterwards; the
// routes that are up stay up; files that do not load refuse the reload.
func TestClusterTLSReload(t *testing.T) {
	certs := testcert.Write(t)
	// The certificate file a reload will rewrite in place (a renewal).
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "route.pem"), filepath.Join(dir, "route-key.pem")
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(to, b, 0o600))
	}
	copyFile(certs.UntrustedCert, cert)
	copyFile(certs.UntrustedKey, key)

	a := startClusterNatsd(t, "a", nil, withClusterTLS(certs, cert, key))
	assert.Equal(t, a.Ports().Cluster[0][:6], "tls://", "ports file: %v", a.Ports().Cluster)
	b := startClusterNatsd(t, "b", []string{a.routeURL()}, withClusterTLS(certs, certs.RouteCert, certs.RouteKey))
	// a's certificate is not signed by the CA: b refuses it, and dials again.
	waitFor(t, "b to refuse a's certificate twice", func() bool {
		return b.Cluster().ClosedCounts()[conn.TLSHandshakeError] >= 2
	})
	assert.Assert(t, b.logs.count("x509: certificate signed by unknown authority (CN=untrusted SHA-256: ") >= 2, b.logs.String())

	// The renewed certificate, same files: the next dial of b succeeds.
	copyFile(certs.RouteCert, cert)
	copyFile(certs.RouteKey, key)
	o := a.Options()
	assert.NilError(t, a.Reload(&o, "renewed"))
	waitMesh(t, a, b)

	// TLS off for new routes: the route up stays, no route is closed.
	closed := a.Cluster().ClosedCounts()
	o.Cluster.TLS = false
	assert.NilError(t, a.Reload(&o, "tls off"))
	assert.Equal(t, a.logs.count("Reloaded: cluster tls = {off}"), 1, a.logs.String())
	assert.DeepEqual(t, a.remoteNames(), []string{"b"})
	assert.DeepEqual(t, a.Cluster().ClosedCounts(), closed)

	// A file that does not load refuses the reload; the running TLS stays.
	o.Cluster.TLS, o.Cluster.TLSCert = true, filepath.Join(dir, "missing.pem")
	err := a.Reload(&o, "broken")
	assert.ErrorContains(t, err, "cluster.tls: load certificate "+o.Cluster.TLSCert)
	assert.Assert(t, !strings.Contains(a.Options().Cluster.TLSCert, "missing"))
}

// TestClusterTLSGossip: with cluster TLS, servers seeded with one peer
// only complete the mesh through gossip: the implicit routes are TLS too.
func TestClusterTLSGossip(t *testing.T) {
	certs := testcert.Write(t)
	tlsOn := withClusterTLS(certs, certs.RouteCert, certs.RouteKey)
	a := startClusterNatsd(t, "a", nil, tlsOn)
	b := startClusterNatsd(t, "b", []string{a.routeURL()}, tlsOn)
	c := startClusterNatsd(t, "c", []string{a.routeURL()}, tlsOn)
	waitMesh(t, a, b, c)
	for _, n := range []*clusterNatsd{a, b, c} {
		assert.Equal(t, n.logs.count("Route state securing -> handshaking"), n.logs.count("Route connection created"), n.logs.String())
		assert.Equal(t, n.logs.count("event connected"), 0, "a plain route: %s", n.logs.String())
	}
}
