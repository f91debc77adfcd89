package lifecycle

import (
	"fmt"
	"reflect"
	"strings"

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

// authReload is what a reload changes about authentication and accounts,
// prepared (and checked) before the reload is accepted.
type authReload struct {
	next    *Options
	sec     *conn.Security
	changes []string // nats-server's "Reloaded: ..." lines
}

// prepareAuthReload checks that the authentication and accounts of next
// can replace those of cur and builds what connections will authenticate
// against. no_auth_user may not change while running (nats-server's rule:
// it may only go away together with its user).
func (s *Server) prepareAuthReload(cur, next *Options) (*authReload, error) {
	if a, b := cur.Auth.NoAuthUser, next.Auth.NoAuthUser; a != b {
		removedWithUser := a != "" && b == ""
		for _, u := range next.Auth.Users {
			if u.Key() == a {
				removedWithUser = false
			}
		}
		if !removedWithUser {
			return nil, fmt.Errorf("config reload not supported for no_auth_user: old=%v, new=%v", a, b)
		}
	}
	sec, err := s.security(next)
	if err != nil {
		return nil, err
	}
	return &authReload{next: next, sec: sec, changes: describeAuthChanges(cur, next)}, nil
}

// applyAuthReload makes the new accounts and authentication current, then
// checks every client again (conn.Conn.Reauthorize): one whose user is
// gone or moved to another account is closed, one whose credentials no
// longer authenticate gets an authorization violation, one whose
// permissions changed has them applied; the others are untouched. Each
// change is logged as nats-server logs it ("Reloaded: authorization
// users").
func (s *Server) applyAuthReload(r *authReload) {
	if r == nil {
		return
	}
	if err := s.applyAccounts(r.next); err != nil {
		// Validated before the reload was accepted; cannot happen.
		s.log.Errorf("Reload: accounts: %v", err)
	}
	prev := s.shared.Security.Swap(r.sec)
	if len(r.changes) == 0 {
		return
	}
	var counts [reauthKinds]int
	for _, c := range s.Clients() {
		counts[c.Reauthorize(prev)]++
	}
	s.log.Infof("Reloaded authorization: %d clients kept, %d with new permissions, %d closed (moved or removed), %d refused, %d not yet authenticated",
		counts[conn.ReauthKept], counts[conn.ReauthPermissions], counts[conn.ReauthMoved], counts[conn.ReauthRefused], counts[conn.ReauthPending])
}

// prepareAuthStep is the auth reload step's prepare: it checks the new
// authentication and accounts and names what changed (logged with the
// other changes as "Reloaded: ...").
func (s *Server) prepareAuthStep(p *reloadPlan) error {
	r, err := s.prepareAuthReload(p.cur, p.next)
	if err != nil {
		return err
	}
	for _, line := range r.changes {
		p.changes = append(p.changes, strings.TrimPrefix(line, "Reloaded: "))
	}
	p.auth = r
	return nil
}

// applyAuthStep is the auth reload step's apply.
func (s *Server) applyAuthStep(p *reloadPlan) { s.applyAuthReload(p.auth) }

// reauthKinds is the number of conn.Reauth outcomes.
const reauthKinds = int(conn.ReauthPending) + 1

// describeAuthChanges lists what changed, in nats-server's words.
func describeAuthChanges(a, b *Options) []string {
	var out []string
	x, y := a.Auth, b.Auth
	if x.User != y.User {
		out = append(out, "Reloaded: authorization username")
	}
	if x.Password != y.Password {
		out = append(out, "Reloaded: authorization password")
	}
	if x.Token != y.Token {
		out = append(out, "Reloaded: authorization token")
	}
	if x.Timeout != y.Timeout {
		out = append(out, fmt.Sprintf("Reloaded: authorization timeout = %v", y.Timeout.Seconds()))
	}
	named := func(c auth.Config, nkey bool) []auth.User {
		var us []auth.User
		for _, u := range c.Users {
			if (u.Nkey != "") == nkey {
				us = append(us, u)
			}
		}
		return us
	}
	if !reflect.DeepEqual(named(x, false), named(y, false)) {
		out = append(out, "Reloaded: authorization users")
	}
	if !reflect.DeepEqual(named(x, true), named(y, true)) {
		out = append(out, "Reloaded: authorization nkey users")
	}
	if x.NoAuthUser != y.NoAuthUser {
		out = append(out, "Reloaded: no_auth_user")
	}
	if !reflect.DeepEqual(a.Accounts, b.Accounts) {
		out = append(out, "Reloaded: accounts")
	}
	return out
}
