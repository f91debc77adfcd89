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
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("tls: load certificate %s and key %s: %w", o.TLSCert, o.TLSKey, err)
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if o.TLSCACert != "" {
		pem, err := os.ReadFile(o.TLSCACert)
		if err != nil {
			return nil, fmt.Errorf("tls: read CA certificate %s: %w", o.TLSCACert, unwrapPathError(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: no certificate found in CA file %s", o.TLSCACert)
		}
		c.ClientCAs = pool
	}
	if o.TLSVerify {
		c.ClientAuth = tls.RequireAndVerifyClientCert
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
