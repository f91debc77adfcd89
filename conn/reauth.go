package conn

import (
	"fmt"

	"github.com/sirupsen/logrus"
)

// Reauth is what [Conn.Reauthorize] did to a connection.
type Reauth int

const (
	// ReauthKept: the client is still who it was, with the same
	// permissions.
	ReauthKept Reauth = iota
	// ReauthPermissions: the client's permissions changed and were applied
	// to its subscriptions.
	ReauthPermissions
	// ReauthMoved: the client's user is gone or now belongs to another
	// account; it was closed (ClientClosed, no -ERR), as nats-server does,
	// so that it reconnects into the right account.
	ReauthMoved
	// ReauthRefused: the client's credentials no longer authenticate; it got
	// -ERR 'Authorization Violation' and was closed (AuthenticationViolation).
	ReauthRefused
	// ReauthPending: the client had not authenticated yet; its CONNECT will
	// be checked against the new configuration.
	ReauthPending
)

// Reauthorize checks an open connection again after the server stored new
// [Security] and [Accounts] (a configuration reload), in nats-server's
// order: a client that named a user that no longer exists, or now belongs
// to another account, is closed; one whose credentials no longer
// authenticate is closed with an authorization violation; one whose
// permissions changed has them applied to its existing subscriptions (a
// subscription no longer allowed is removed with nats-server's -ERR naming
// its sid, the delivery filters are recomputed). Any other client is left
// alone. It is safe to call from any goroutine.
// prev is the authentication the connection was checked against before.
func (c *Conn) Reauthorize(prev *Security) Reauth {
	if c.State() != Open {
		return ReauthKept
	}
	if c.auth.awaiting.Load() {
		return ReauthPending
	}
	c.mu.Lock()
	cr, old := c.auth.creds, c.auth.id
	c.mu.Unlock()
	a := c.sh.Security.Load().authenticator()
	if old.Key != "" {
		acc, ok := a.UserAccount(old.Key)
		if !ok || acc != old.Account {
			c.logReauth("user %q no longer in account %q: closing", old.Key, old.Account)
			c.Close(ClientClosed)
			return ReauthMoved
		}
	}
	id, err := a.Reauthenticate(prev.authenticator(), old, cr)
	if err != nil {
		c.authViolation(err, cr)
		return ReauthRefused
	}
	if id.Account != old.Account {
		c.logReauth("now in account %q instead of %q: closing", id.Account, old.Account)
		c.Close(ClientClosed)
		return ReauthMoved
	}
	c.mu.Lock()
	c.auth.id = id
	c.mu.Unlock()
	if old.Perms.Equal(id.Perms) {
		c.auth.perms.Store(id.Perms) // same rules, the new value: caches follow it
		return ReauthKept
	}
	c.auth.perms.Store(id.Perms)
	c.applySubPermissions()
	return ReauthPermissions
}

// applySubPermissions checks every subscription against the current
// permissions: one no longer allowed is removed, with nats-server's -ERR;
// the others get their delivery filter recomputed.
func (c *Conn) applySubPermissions() {
	p := c.auth.perms.Load()
	c.subsMu.Lock()
	var removed []*Subscription
	for sid, s := range c.subs {
		if !p.Subscribe(s.subject, s.queue) {
			delete(c.subs, sid)
			removed = append(removed, s)
			continue
		}
		s.filter.Store(p.NeedsDeliveryFilter(s.subject, s.queue))
	}
	c.numSubs.Store(int64(len(c.subs)))
	c.subsMu.Unlock()
	for _, s := range removed {
		s.acc.remove(s)
		if s.queue != "" {
			c.sendErr(fmt.Sprintf("Permissions Violation for Subscription to %q using queue %q (sid %q)", s.subject, s.queue, s.sid))
		} else {
			c.sendErr(fmt.Sprintf("Permissions Violation for Subscription to %q (sid %q)", s.subject, s.sid))
		}
		c.logReauth("removed subscription %q (sid %q): not authorized", s.subject, s.sid)
	}
}

func (c *Conn) logReauth(format string, args ...any) {
	if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.InfoLevel) {
		log.Infof("%s - cid:%d - reload: %s", c.hostPort(), c.cid, fmt.Sprintf(format, args...))
	}
}
