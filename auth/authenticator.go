package auth

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nkeys"
)

// Credentials are what a client presents: the CONNECT fields and, for a
// TLS client, its verified certificate.
type Credentials struct {
	User     string
	Password string
	Token    string
	Nkey     string
	// Sig is the CONNECT's signature of Nonce by the nkey's private key,
	// base64 (URL or standard encoding, padded or not).
	Sig   string
	Nonce []byte
	// Cert is the client's leaf certificate, verified by the TLS handshake;
	// nil without TLS or without a client certificate.
	Cert *x509.Certificate
}

// Identity is who a client was authenticated as.
type Identity struct {
	// User is what monitoring shows as authorized_user: the nkey, the user
	// name, or "[REDACTED]" for a token; "" for an anonymous client.
	User string
	// Key identifies the configured user (its nkey or name) for checking
	// the client again after a reload; "" for a token, the single user or
	// no authentication.
	Key string
	// Account is the account the client belongs to.
	Account string
	// Perms are the user's compiled permissions; nil allows everything.
	Perms *Perms
}

// ErrNotAuthorized is what every failed authentication wraps; the rest of
// the error says why, for the debug log (the client only ever gets
// nats-server's "Authorization Violation").
var ErrNotAuthorized = errors.New("authorization violation")

// Authenticator authenticates clients against one [Config]. It never
// changes once built and is safe for concurrent use. A nil *Authenticator
// requires nothing and lets everyone in to the global account.
type Authenticator struct {
	cfg   Config
	users map[string]*compiledUser // by name
	nkeys map[string]*compiledUser // by public nkey
}

type compiledUser struct {
	User
	perms *Perms
}

// New validates cfg and returns its authenticator.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{cfg: cfg}
	for _, u := range cfg.Users {
		cu := &compiledUser{User: u, perms: Compile(u.Permissions)}
		if cu.Account == "" {
			cu.Account = GlobalAccount
		}
		if u.Nkey != "" {
			if a.nkeys == nil {
				a.nkeys = make(map[string]*compiledUser)
			}
			a.nkeys[u.Nkey] = cu
		} else {
			if a.users == nil {
				a.users = make(map[string]*compiledUser)
			}
			a.users[u.Name] = cu
		}
	}
	return a, nil
}

// Config returns the configuration a was built from.
func (a *Authenticator) Config() Config {
	if a == nil {
		return Config{}
	}
	return a.cfg
}

// Required reports whether clients must authenticate.
func (a *Authenticator) Required() bool { return a != nil && a.cfg.Required() }

// AnnounceRequired reports whether INFO says auth_required: authentication
// is required and no configured no_auth_user lets anonymous clients in.
func (a *Authenticator) AnnounceRequired() bool {
	return a.Required() && (a.cfg.NoAuthUser == "" || a.cfg.HiddenNoAuthUser)
}

// NonceRequired reports whether INFO carries a nonce: nkey users exist.
func (a *Authenticator) NonceRequired() bool { return a != nil && len(a.nkeys) > 0 }

// NoAuthUser returns the user anonymous clients are authenticated as, or "".
func (a *Authenticator) NoAuthUser() string {
	if a == nil {
		return ""
	}
	return a.cfg.NoAuthUser
}

// Reauthenticate decides again, after a reload, who a client authenticated
// as id (by prev) with credentials cr is under a's rules. When nothing
// that decided it changed (the user's password or nkey and connection
// types, or the token, the single user, no_auth_user and TLS mapping) it
// returns the user's new identity without checking the credentials again
// (a bcrypt check per client would make a reload slow); otherwise it
// authenticates cr again.
func (a *Authenticator) Reauthenticate(prev *Authenticator, id Identity, cr Credentials) (Identity, error) {
	if prev == nil || a == nil || !a.Required() || !prev.Required() ||
		a.cfg.TLSMap != prev.cfg.TLSMap || a.cfg.NoAuthUser != prev.cfg.NoAuthUser {
		return a.Authenticate(cr)
	}
	if id.Key == "" {
		if a.cfg.Token == prev.cfg.Token && a.cfg.User == prev.cfg.User && a.cfg.Password == prev.cfg.Password &&
			len(a.users)+len(a.nkeys) == 0 && len(prev.users)+len(prev.nkeys) == 0 {
			return Identity{User: id.User, Account: GlobalAccount}, nil
		}
		return a.Authenticate(cr)
	}
	nu, pu := a.lookup(id.Key), prev.lookup(id.Key)
	if nu == nil || pu == nil || nu.Password != pu.Password || nu.Nkey != pu.Nkey ||
		!slices.Equal(nu.ConnectionTypes, pu.ConnectionTypes) {
		return a.Authenticate(cr)
	}
	return Identity{User: id.User, Key: id.Key, Account: nu.Account, Perms: nu.perms}, nil
}

func (a *Authenticator) lookup(key string) *compiledUser {
	if u := a.nkeys[key]; u != nil {
		return u
	}
	return a.users[key]
}

// UserAccount returns the account of the configured user (or nkey) key,
// and whether such a user exists.
func (a *Authenticator) UserAccount(key string) (string, bool) {
	if a == nil {
		return "", false
	}
	if u := a.lookup(key); u != nil {
		return u.Account, true
	}
	return "", false
}

// Anonymous reports whether cr carries no user, password, token or nkey:
// a client that no_auth_user applies to.
func (cr *Credentials) Anonymous() bool {
	return cr.User == "" && cr.Password == "" && cr.Token == "" && cr.Nkey == ""
}

// Authenticate decides who the client presenting cr is, in nats-server's
// order: nkey users, then named users (named by the certificate with
// TLSMap), then the token or the single user. no_auth_user stands in for a
// client that presents nothing. Without required authentication everyone
// is let in to the global account. A failure wraps [ErrNotAuthorized].
func (a *Authenticator) Authenticate(cr Credentials) (Identity, error) {
	if !a.Required() {
		return Identity{User: cr.Presented(), Account: GlobalAccount}, nil
	}
	noAuth := a.cfg.NoAuthUser
	var nu, u *compiledUser
	if len(a.nkeys) > 0 {
		if noAuth != "" && cr.Anonymous() && a.nkeys[noAuth] != nil {
			cr.Nkey = noAuth
		}
		if cr.Nkey != "" {
			if nu = a.nkeys[cr.Nkey]; nu == nil {
				return Identity{}, fail("unknown nkey %q", cr.Nkey)
			}
			if !nu.standardAllowed() {
				return Identity{}, fail("nkey %q: connection type not allowed", cr.Nkey)
			}
		}
	}
	viaNoAuth := false
	if len(a.users) > 0 && nu == nil {
		switch {
		case a.cfg.TLSMap:
			if u = a.userFromCert(cr.Cert); u == nil {
				return Identity{}, fail("no user matches the client certificate")
			}
		default:
			if noAuth != "" && cr.Anonymous() && a.users[noAuth] != nil {
				cr.User, viaNoAuth = noAuth, true
			}
			if cr.User != "" {
				if u = a.users[cr.User]; u == nil {
					return Identity{}, fail("unknown user %q", cr.User)
				}
				if !u.standardAllowed() {
					return Identity{}, fail("user %q: connection type not allowed", cr.User)
				}
			}
		}
	}
	switch {
	case nu != nil:
		if nu.Nkey != noAuth {
			if err := verifyNonce(nu.Nkey, cr.Sig, cr.Nonce); err != nil {
				return Identity{}, err
			}
		}
		return Identity{User: nu.Nkey, Key: nu.Nkey, Account: nu.Account, Perms: nu.perms}, nil
	case u != nil:
		if !viaNoAuth && !comparePassword(u.Password, cr.Password) {
			return Identity{}, fail("user %q: wrong password", u.Name)
		}
		return Identity{User: u.Name, Key: u.Name, Account: u.Account, Perms: u.perms}, nil
	case a.cfg.Token != "":
		if !comparePassword(a.cfg.Token, cr.Token) {
			return Identity{}, fail("wrong token")
		}
		return Identity{User: "[REDACTED]", Account: GlobalAccount}, nil
	case a.cfg.User != "":
		if cr.User != a.cfg.User || !comparePassword(a.cfg.Password, cr.Password) {
			return Identity{}, fail("wrong user or password")
		}
		return Identity{User: cr.User, Account: GlobalAccount}, nil
	}
	return Identity{}, fail("no credentials")
}

func (u *compiledUser) standardAllowed() bool {
	if len(u.ConnectionTypes) == 0 {
		return true
	}
	return slices.ContainsFunc(u.ConnectionTypes, func(ct string) bool { return strings.EqualFold(ct, "STANDARD") })
}

// verifyNonce checks sig, the base64 signature of nonce, against the
// public user nkey.
func verifyNonce(nkey, sig string, nonce []byte) error {
	if sig == "" {
		return fail("nkey %q: signature missing", nkey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return fail("nkey %q: signature is not base64", nkey)
		}
	}
	pub, err := nkeys.FromPublicKey(nkey)
	if err != nil {
		return fail("nkey %q: %v", nkey, err)
	}
	if err := pub.Verify(nonce, raw); err != nil {
		return fail("nkey %q: signature not verified", nkey)
	}
	return nil
}

// Presented is who the client said it was, as monitoring shows it for a
// client that was not (or not yet) authenticated: the nkey or user it
// presented, or "[REDACTED]" for a token.
func (cr *Credentials) Presented() string {
	switch {
	case cr.Nkey != "":
		return cr.Nkey
	case cr.User != "":
		return cr.User
	case cr.Token != "":
		return "[REDACTED]"
	}
	return ""
}

func fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotAuthorized, fmt.Sprintf(format, args...))
}
