package lifecycle

import (
	"fmt"

	"github.com/natsd/natsd/auth"
	"github.com/natsd/natsd/conn"
)

// validateAuth checks the authentication options: what nats-server
// refuses (see auth.Config.Validate), and tls { verify_and_map } without
// client certificates to map.
func (o *Options) validateAuth() error {
	if err := o.Auth.Validate(); err != nil {
		return err
	}
	if o.Auth.TLSMap && !o.TLSVerify {
		return fmt.Errorf("tls: verify_and_map needs verified client certificates (tls { verify: true })")
	}
	return nil
}

// hidden compares like its value and prints as "(hidden)", for options
// that hold secrets.
type hidden struct{ v any }

func (hidden) String() string { return "(hidden)" }

// security builds what connections authenticate against from the options.
func (s *Server) security(o *Options) (*conn.Security, error) {
	a, err := auth.New(o.Auth)
	if err != nil {
		return nil, err
	}
	return &conn.Security{
		Auth:    a,
		Timeout: o.Auth.EffectiveTimeout(s.clientTLS(o) != nil, o.TLSTimeout),
	}, nil
}

// applySecurity makes o's authentication the one new connections and
// CONNECTs are checked against.
func (s *Server) applySecurity(o *Options) error {
	sec, err := s.security(o)
	if err != nil {
		return err
	}
	s.shared.Security.Store(sec)
	return nil
}
