package lifecycle

import (
	"fmt"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/auth"
	"github.com/natsd/natsd/conn"
)

// validateAuth checks the authentication options: what nats-server
// refuses (see auth.Config.Validate), and tls { verify_and_map } without
// client certificates to map.
func (o *Options) validateAuth() error {
	if err := o.Accounts.Validate(); err != nil {
		return err
	}
	ea := o.effectiveAuth()
	if err := ea.Validate(); err != nil {
		return err
	}
	for _, u := range o.Auth.Users {
		if u.Account != "" && u.Account != account.Global && o.Accounts.Lookup(u.Account) == nil && u.Account != o.systemAccount() {
			return fmt.Errorf("user %q: account %q is not defined", u.Key(), u.Account)
		}
	}
	if sys := o.systemAccount(); sys != "" && sys != account.DefaultSystem && o.Accounts.Lookup(sys) == nil {
		return fmt.Errorf("error resolving system account: account missing")
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
	a, err := auth.New(o.effectiveAuth())
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
