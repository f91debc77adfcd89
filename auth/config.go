package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
)

// Defaults, as nats-server's.
const (
	// DefaultTimeout is how long a client has to authenticate when no
	// authorization timeout is configured (with TLS: the TLS timeout plus
	// one second, see [Config.EffectiveTimeout]).
	DefaultTimeout = 2 * time.Second
	// DefaultResponseMaxMsgs and DefaultResponseExpires are allow_responses'
	// defaults: one reply per request, within two minutes.
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
	// GlobalAccount is the account of users that name none.
	GlobalAccount = "$G"
)

// Config is the authentication and authorization configuration: nats-server's
// authorization {} block, the users of its accounts {} blocks, no_auth_user
// and tls { verify_and_map }. The zero Config requires no authentication.
type Config struct {
	// Token, or User and Password, is the single credential of
	// authorization { token } or authorization { user, password }.
	Token    string
	User     string
	Password string
	// Users are the users of authorization { users } and of every account's
	// users, with their account and final permissions (the default
	// permissions of their block already applied).
	Users []User
	// NoAuthUser names the user (or nkey) a client that presents no
	// credentials is authenticated as.
	NoAuthUser string
	// HiddenNoAuthUser reports that NoAuthUser was not configured but made
	// up by the server (a config with only a system account, so that
	// anonymous clients keep working as in nats-server): INFO still says
	// auth_required.
	HiddenNoAuthUser bool
	// Timeout is authorization { timeout }; 0 means the default.
	Timeout time.Duration
	// TLSMap is tls { verify_and_map }: users are named by the subject or
	// a SAN of the client's certificate.
	TLSMap bool
	// BlockDefined reports that an authorization {} block was written
	// (even an empty one), which nats-server's hidden no-auth user for a
	// system-account-only configuration depends on.
	BlockDefined bool
}

// User is one configured user: a name with a password, or an nkey.
type User struct {
	// Name is the user name; "" for an nkey user.
	Name string
	// Password is plain text or a bcrypt hash ($2a$..., $2b$...).
	Password string
	// Nkey is the user's public nkey (U...); "" for a named user.
	Nkey string
	// Account is the account the user belongs to; "" is the global account.
	Account string
	// Permissions restrict what the user may publish and subscribe to; nil
	// allows everything.
	Permissions *Permissions
	// ConnectionTypes are allowed_connection_types (STANDARD, WEBSOCKET,
	// ...); empty allows every type. natsd's clients are all STANDARD.
	ConnectionTypes []string
}

// Key returns what identifies the user: its nkey or its name.
func (u *User) Key() string {
	if u.Nkey != "" {
		return u.Nkey
	}
	return u.Name
}

// Permissions are a user's permissions as configured.
type Permissions struct {
	Publish   *SubjectPermission
	Subscribe *SubjectPermission
	// Response, when set, lets the user publish to the reply subjects of
	// the requests it received, even where Publish denies it.
	Response *ResponsePermission
}

// SubjectPermission is one direction's allow and deny lists. A nil Allow
// allows every subject; an empty non-nil Allow allows none. Deny wins over
// Allow. Subscribe entries may name a queue group: "orders.* workers".
type SubjectPermission struct {
	Allow []string
	Deny  []string
}

// ResponsePermission is allow_responses: how many replies (MaxMsgs, < 0:
// any number) the user may send to a request's reply subject, and for how
// long (Expires, < 0: forever). Zero values mean the defaults.
type ResponsePermission struct {
	MaxMsgs int
	Expires time.Duration
}

// ConnectionTypes nats-server knows; natsd serves STANDARD only.
var ConnectionTypes = []string{"STANDARD", "WEBSOCKET", "LEAFNODE", "LEAFNODE_WS", "MQTT", "MQTT_WS", "IN_PROCESS"}

// Required reports whether clients must authenticate: some user, nkey,
// token or single user is configured.
func (c *Config) Required() bool {
	return len(c.Users) > 0 || c.Token != "" || c.User != "" || c.Password != ""
}

// EffectiveTimeout returns the authentication timeout: Timeout, or the
// default, which is the TLS timeout plus one second when clients use TLS.
func (c *Config) EffectiveTimeout(tls bool, tlsTimeout time.Duration) time.Duration {
	switch {
	case c.Timeout > 0:
		return c.Timeout
	case tls:
		return tlsTimeout + time.Second
	default:
		return DefaultTimeout
	}
}

// Validate reports the first problem of the configuration that nats-server
// also refuses, with nats-server's text.
func (c *Config) Validate() error {
	if (c.User != "" || c.Password != "") && c.Token != "" {
		return fmt.Errorf("Cannot have a user/pass and token")
	}
	var hasBlockUsers, hasAccountUsers bool
	for _, u := range c.Users {
		if u.Account == "" || u.Account == GlobalAccount {
			hasBlockUsers = true
		} else {
			hasAccountUsers = true
		}
	}
	switch {
	case hasBlockUsers && c.User != "":
		return fmt.Errorf("Can not have a single user/pass and a users array")
	case hasBlockUsers && c.Token != "":
		return fmt.Errorf("Can not have a token and a users array")
	case hasAccountUsers && c.User != "":
		return fmt.Errorf("Can not have a single user/pass and accounts")
	case hasAccountUsers && c.Token != "":
		return fmt.Errorf("Can not have a token and accounts")
	}
	seen := make(map[string]bool, len(c.Users))
	for i := range c.Users {
		u := &c.Users[i]
		if err := u.validate(); err != nil {
			return err
		}
		if seen[u.Key()] {
			if u.Nkey != "" {
				return fmt.Errorf("Duplicate nkey %q detected", u.Nkey)
			}
			return fmt.Errorf("Duplicate user %q detected", u.Name)
		}
		seen[u.Key()] = true
	}
	if c.NoAuthUser != "" {
		if len(c.Users) == 0 {
			return fmt.Errorf(`no_auth_user: "%s" present, but users/nkeys are not defined`, c.NoAuthUser)
		}
		if !seen[c.NoAuthUser] {
			return fmt.Errorf(`no_auth_user: "%s" not present as user or nkey in authorization block or account configuration`, c.NoAuthUser)
		}
	}
	return nil
}

func (u *User) validate() error {
	if u.Nkey == "" && u.Name == "" {
		return fmt.Errorf("User entry requires a user")
	}
	if u.Nkey != "" {
		if !nkeys.IsValidPublicUserKey(u.Nkey) {
			return fmt.Errorf("Not a valid public nkey for a user")
		}
		if u.Name != "" || u.Password != "" {
			return fmt.Errorf("Nkey users do not take usernames or passwords")
		}
	}
	for _, ct := range u.ConnectionTypes {
		if !slices.Contains(ConnectionTypes, strings.ToUpper(ct)) {
			return fmt.Errorf("unknown connection type %q", ct)
		}
	}
	return u.Permissions.Validate()
}

// Validate checks every subject of the permissions, as nats-server does:
// publish entries are subjects, subscribe entries subjects optionally
// followed by a queue group.
func (p *Permissions) Validate() error {
	if p == nil {
		return nil
	}
	for _, sp := range []struct {
		sp    *SubjectPermission
		queue bool
	}{{p.Publish, false}, {p.Subscribe, true}} {
		if sp.sp == nil {
			continue
		}
		for _, s := range append(slices.Clip(sp.sp.Allow), sp.sp.Deny...) {
			if err := checkPermSubject(s, sp.queue); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPermSubject(s string, allowQueue bool) error {
	if validSubject(s) {
		return nil
	}
	if !allowQueue {
		return fmt.Errorf("subject %q is not a valid subject", s)
	}
	f := strings.Fields(s)
	switch {
	case len(f) != 2:
		return fmt.Errorf("subject %q is not a valid subject", s)
	case !validSubject(f[0]):
		return fmt.Errorf("subject %q is not a valid subject", f[0])
	case !validSubject(f[1]):
		return fmt.Errorf("queue %q is not a valid queue", f[1])
	}
	return nil
}

// WithResponseDefaults returns p with allow_responses' rules applied as
// nats-server applies them: zero limits become the defaults, and a
// response permission without a publish allow list turns publishing off
// except for replies.
func (p *Permissions) WithResponseDefaults() *Permissions {
	if p == nil || p.Response == nil {
		return p
	}
	q := *p
	r := *p.Response
	if r.MaxMsgs == 0 {
		r.MaxMsgs = DefaultResponseMaxMsgs
	}
	if r.Expires == 0 {
		r.Expires = DefaultResponseExpires
	}
	q.Response = &r
	pub := SubjectPermission{}
	if p.Publish != nil {
		pub = *p.Publish
	}
	if pub.Allow == nil {
		pub.Allow = []string{}
	}
	q.Publish = &pub
	return &q
}
