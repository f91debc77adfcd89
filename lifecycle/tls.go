package lifecycle

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/natsd/natsd/conn"
)

// TLSConfig builds the TLS configuration from the options, or nil when
// TLS is off. Errors name the file at fault. New calls it; the natsd
// command calls it too, so -t catches a bad certificate.
func TLSConfig(o *Options) (*tls.Config, error) {
	if !o.TLS && !o.TLSVerify && o.HTTPSPort == 0 {
		return nil, nil
	}
	c, err := tlsFiles{block: "tls", cert: o.TLSCert, key: o.TLSKey, ca: o.TLSCACert}.load()
	if err != nil {
		return nil, err
	}
	if o.TLSVerify {
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// ClusterTLSConfig builds the routes' TLS configuration from the cluster
// tls options, or nil without cluster TLS. As nats-server's, it requires
// and verifies the remote's certificate whatever verify says, and the CA
// (the system roots without ca_file) verifies both the routes that dial
// this server and the servers it dials. Errors name the file at fault.
// New and every reload call it (a reload re-reads the files, so renewed
// certificates serve the routes that connect afterwards); the natsd
// command calls it for -t.
func ClusterTLSConfig(o *Options) (*tls.Config, error) {
	co := &o.Cluster
	if !co.Enabled() || !co.TLS {
		return nil, nil
	}
	c, err := tlsFiles{block: "cluster.tls", cert: co.TLSCert, key: co.TLSKey, ca: co.TLSCACert}.load()
	if err != nil {
		return nil, err
	}
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.RootCAs = c.ClientCAs
	return c, nil
}

// tlsFiles are the files of one tls {} block: the certificate, its key and
// the CA; block names the block in errors.
type tlsFiles struct {
	block, cert, key, ca string
}

// load reads the files into a TLS configuration (TLS 1.2 at least) with
// the certificate and, with a CA, the pool verifying client certificates.
func (f tlsFiles) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("%s: load certificate %s and key %s: %w", f.block, f.cert, f.key, err)
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("%s: read CA certificate %s: %w", f.block, f.ca, unwrapPathError(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate found in CA file %s", f.block, f.ca)
		}
		c.ClientCAs = pool
	}
	return c, nil
}

// clientTLS returns the TLS configuration for client connections: nil when
// only the monitoring port uses TLS.
func (s *Server) clientTLS(o *Options) *tls.Config {
	if o.TLS || o.TLSVerify {
		return s.tls
	}
	return nil
}

// tlsModes applies tls { handshake_first } and allow_non_tls to what
// connections get: TLS before INFO, or TLS at the client's choice (INFO
// then says tls_available instead of tls_required).
func tlsModes(o *Options, cfg *conn.Config) {
	if cfg.TLS == nil {
		return
	}
	cfg.TLSFirst = o.TLSHandshakeFirst
	cfg.AllowNonTLS = o.AllowNonTLS && !o.TLSHandshakeFirst
	if cfg.AllowNonTLS {
		cfg.Info.TLSRequired, cfg.Info.TLSAvailable = false, true
	}
}
