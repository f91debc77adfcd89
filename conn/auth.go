package conn

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/auth"
	"github.com/sirupsen/logrus"
)

// Security is the authentication configuration the server gives its
// connections. Once stored in [Shared].Security it never changes; a reload
// stores a new one. A connection decides its INFO (auth_required, nonce)
// from the Security current when it is accepted, and authenticates against
// the one current when its CONNECT arrives.
type Security struct {
	// Auth authenticates clients; nil requires nothing.
	Auth *auth.Authenticator
	// Timeout is how long a client has to authenticate once INFO is sent
	// (and the TLS handshake is done).
	Timeout time.Duration
}

func (s *Security) authenticator() *auth.Authenticator {
	if s == nil {
		return nil
	}
	return s.Auth
}

// connAuth is one connection's authentication and authorization state.
type connAuth struct {
	// pending and checked are the reader's: authentication is required and
	// not done yet; the first input byte was looked at.
	pending, checked bool
	// nonce is the INFO's nonce ("" without nkey users); fixed at New.
	nonce string
	// cert is the client's verified certificate, set by the TLS handshake
	// before the reader starts.
	cert *x509.Certificate
	// timer is the authentication timeout, nil once authenticated or
	// closed; guarded by Conn.mu.
	timer *time.Timer
	// creds (what the client presented, for the re-check on reload), id
	// (who it was authenticated as) and replies (allow_responses) are
	// guarded by Conn.mu.
	creds   auth.Credentials
	id      auth.Identity
	replies auth.Replies
	// perms are the user's permissions, nil for none. They are an atomic
	// so that a reload can replace them while the reader and publishers
	// read them without a lock.
	perms atomic.Pointer[auth.Perms]
	// pubCache is the reader's cache of publish verdicts.
	pubCache auth.PubCache
	// acc is the client's account: the global one until authentication
	// names another. The reader changes it and reads it without a lock;
	// others read id.Account.
	acc *Account
	// awaiting is set while the client must still authenticate (the
	// reader's pending, for other goroutines).
	awaiting atomic.Bool
}

// connectCreds are the credential fields of CONNECT.
type connectCreds struct {
	User  string `json:"user"`
	Pass  string `json:"pass"`
	Token string `json:"auth_token"`
	Nkey  string `json:"nkey"`
	Sig   string `json:"sig"`
}

// nonceRawLen is the number of random bytes of a nonce (15 characters in
// base64), as nats-server's.
const nonceRawLen = 11

// initAuth decides, at New, whether the connection must authenticate and
// what its INFO says about it.
func (c *Conn) initAuth() {
	c.auth.id.Account = c.auth.acc.name
	a := c.sh.Security.Load().authenticator()
	if !a.Required() {
		return
	}
	c.auth.pending = true
	c.auth.awaiting.Store(true)
	if a.NonceRequired() {
		var raw [nonceRawLen]byte
		rand.Read(raw[:])
		c.auth.nonce = base64.RawURLEncoding.EncodeToString(raw[:])
	}
}

// authInfo fills INFO's auth_required and nonce.
func (c *Conn) authInfo(info *Info) {
	if !c.auth.pending {
		return
	}
	info.AuthRequired = c.sh.Security.Load().authenticator().AnnounceRequired()
	info.Nonce = c.auth.nonce
}

// startAuthTimer arms the authentication timeout once the connection is
// ready to read (after INFO and any TLS handshake).
func (c *Conn) startAuthTimer() {
	if !c.auth.pending {
		return
	}
	d := auth.DefaultTimeout
	if sec := c.sh.Security.Load(); sec != nil && sec.Timeout > 0 {
		d = sec.Timeout
	}
	c.mu.Lock()
	if c.State() == Open {
		c.auth.timer = time.AfterFunc(d, c.authTimerFired)
	}
	c.mu.Unlock()
}

// authTimerFired closes a connection that has not authenticated in time,
// as nats-server does: -ERR 'Authentication Timeout', AuthenticationTimeout.
func (c *Conn) authTimerFired() {
	c.mu.Lock()
	live := c.auth.timer != nil && c.State() == Open
	c.auth.timer = nil
	c.mu.Unlock()
	if !live {
		return
	}
	if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) {
		log.Debugf("%s - cid:%d - Authentication Timeout", c.hostPort(), c.cid)
	}
	c.sendErr("Authentication Timeout")
	c.Close(AuthenticationTimeout)
}

// stopAuthTimerLocked disarms the authentication timeout; c.mu is held.
func (c *Conn) stopAuthTimerLocked() {
	if c.auth.timer != nil {
		c.auth.timer.Stop()
		c.auth.timer = nil
	}
}

// firstInput looks at the first byte a connection that must authenticate
// sends. Anything but a CONNECT is an authorization violation, as in
// nats-server, unless no_auth_user lets an anonymous client in (a telnet
// session may start with PING or SUB). It reports whether reading goes on.
func (c *Conn) firstInput(b byte) bool {
	c.auth.checked = true
	if b == 'C' || b == 'c' {
		return true
	}
	a := c.sh.Security.Load().authenticator()
	if a.NoAuthUser() == "" {
		c.authViolation(fmt.Errorf("%w: first operation is not CONNECT", auth.ErrNotAuthorized), auth.Credentials{})
		return false
	}
	c.mu.Lock()
	c.stopAuthTimerLocked()
	c.mu.Unlock()
	if err := c.applyAuth(a, auth.Credentials{Nonce: []byte(c.auth.nonce), Cert: c.auth.cert}); err != nil {
		c.authViolation(err, auth.Credentials{})
		return false
	}
	return true
}

// authenticate checks the credentials of a CONNECT (every CONNECT: a
// second one may change who the client is). A failure sends
// -ERR 'Authorization Violation', closes the connection with
// AuthenticationViolation and returns errClosed.
func (c *Conn) authenticate(arg []byte) error {
	var cc connectCreds
	if err := json.Unmarshal(arg, &cc); err != nil {
		return err
	}
	cr := auth.Credentials{User: cc.User, Password: cc.Pass, Token: cc.Token, Nkey: cc.Nkey, Sig: cc.Sig, Nonce: []byte(c.auth.nonce), Cert: c.auth.cert}
	c.mu.Lock()
	c.stopAuthTimerLocked()
	c.mu.Unlock()
	if err := c.applyAuth(c.sh.Security.Load().authenticator(), cr); err != nil {
		c.authViolation(err, cr)
		return errClosed
	}
	return nil
}

// applyAuth authenticates cr with a and, on success, makes the identity
// and its permissions the connection's.
func (c *Conn) applyAuth(a *auth.Authenticator, cr auth.Credentials) error {
	id, err := a.Authenticate(cr)
	if err != nil {
		return err
	}
	acc := c.sh.accounts().Lookup(id.Account)
	if acc == nil {
		return fmt.Errorf("%w: account %q does not exist", auth.ErrNotAuthorized, id.Account)
	}
	if acc != c.auth.acc {
		// A second CONNECT moved the client to another account: its
		// subscriptions do not follow it, as in nats-server.
		c.dropSubscriptions()
		c.auth.acc = acc
	}
	c.mu.Lock()
	c.auth.creds, c.auth.id = cr, id
	c.mu.Unlock()
	c.auth.perms.Store(id.Perms)
	c.auth.pending = false
	c.auth.awaiting.Store(false)
	return nil
}

// dropSubscriptions removes every subscription of the connection.
func (c *Conn) dropSubscriptions() {
	c.subsMu.Lock()
	subs := c.subs
	c.subs = nil
	c.numSubs.Store(0)
	c.subsMu.Unlock()
	for _, s := range subs {
		s.acc.remove(s)
	}
}

// authViolation answers failed authentication as nats-server does.
func (c *Conn) authViolation(err error, cr auth.Credentials) {
	if log := c.sh.Log; log != nil {
		who := ""
		switch {
		case cr.Nkey != "":
			who = fmt.Sprintf(" - Nkey %q", cr.Nkey)
		case cr.User != "":
			who = fmt.Sprintf(" - User %q", cr.User)
		}
		log.Errorf("%s - cid:%d - authentication error%s", c.hostPort(), c.cid, who)
		if log.IsLevelEnabled(logrus.DebugLevel) {
			log.Debugf("%s - cid:%d - %v", c.hostPort(), c.cid, err)
		}
	}
	c.mu.Lock()
	c.auth.id = auth.Identity{User: cr.Presented()}
	c.mu.Unlock()
	c.sendErr("Authorization Violation")
	c.Close(AuthenticationViolation)
	if h := c.sh.OnAuthError; h != nil {
		h(c)
	}
}

// pubDenied reports whether the client may not publish to subj (or with
// reply), and if so sends nats-server's -ERR; the connection stays open.
// A client without permissions pays one atomic load.
func (c *Conn) pubDenied(subj, reply []byte) bool {
	if len(reply) >= len(replyPrefix) && string(reply[:len(replyPrefix)]) == replyPrefix {
		c.permViolation(fmt.Sprintf("Permissions Violation for Publish with Reply of %q", reply), fmt.Sprintf("Publish Violation - Reply %q", reply))
		return true
	}
	p := c.auth.perms.Load()
	if !p.RestrictsPublish() || c.auth.pubCache.Allowed(p, subj) {
		return false
	}
	if rp := p.Responses(); rp != nil {
		c.mu.Lock()
		ok := c.auth.replies.Allow(string(subj), time.Now(), rp)
		c.mu.Unlock()
		if ok {
			return false
		}
	}
	c.permViolation(fmt.Sprintf("Permissions Violation for Publish to %q", subj), fmt.Sprintf("Publish Violation - Subject %q", subj))
	return true
}

// replyPrefix starts the reply subjects of service imports, which clients
// may not use as their own.
const replyPrefix = "_R_."

// subDenied reports whether the client may not subscribe with s, sending
// nats-server's -ERR if so, and flags s for per-delivery filtering when it
// may receive denied subjects.
func (c *Conn) subDenied(s *Subscription) bool {
	p := c.auth.perms.Load()
	if !p.RestrictsSubscribe() {
		return false
	}
	if !p.Subscribe(s.subject, s.queue) {
		if s.queue != "" {
			c.permViolation(fmt.Sprintf("Permissions Violation for Subscription to %q using queue %q", s.subject, s.queue),
				fmt.Sprintf("Subscription Violation - Subject %q, Queue: %q, SID %s", s.subject, s.queue, s.sid))
		} else {
			c.permViolation(fmt.Sprintf("Permissions Violation for Subscription to %q", s.subject),
				fmt.Sprintf("Subscription Violation - Subject %q, SID %s", s.subject, s.sid))
		}
		return true
	}
	s.filter.Store(p.NeedsDeliveryFilter(s.subject, s.queue))
	return false
}

// permViolation sends a permissions -ERR and logs it, as nats-server.
func (c *Conn) permViolation(errText, logText string) {
	if log := c.sh.Log; log != nil {
		c.mu.Lock()
		id := c.auth.id
		c.mu.Unlock()
		log.Errorf("%s - cid:%d - \"%s/%s\" - %s", c.hostPort(), c.cid, id.Account, id.User, logText)
	}
	c.sendErr(errText)
	c.pcdAdd(c)
}

// deliveryDenied reports whether the subscription's deny filter refuses a
// message on subj. Only subscriptions flagged by subDenied (s.filter) are
// asked.
func (s *Subscription) deliveryDenied(subj []byte) bool {
	return s.conn.auth.perms.Load().DeliveryDenied(bytesToString(subj), s.queue)
}

// trackReplyLocked records a delivered message's reply subject for a user
// with allow_responses; d.mu is held.
func (d *Conn) trackReplyLocked(reply []byte) {
	if rp := d.auth.perms.Load().Responses(); rp != nil {
		d.auth.replies.Add(string(reply), time.Now(), rp)
	}
}
