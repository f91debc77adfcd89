package route

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/conn/subject"
	"golang.org/x/crypto/bcrypt"
)

// routeHandler is the route seen as the parser's handler; its methods run
// on the route's reader goroutine.
type routeHandler Route

var (
	pingLine = []byte("PING\r\n")
	pongLine = []byte("PONG\r\n")
)

// onOp handles every operation but messages. On an accepted route the
// first operation must be CONNECT, as nats-server requires.
func (h *routeHandler) onOp(kind opKind, arg []byte) error {
	r := (*Route)(h)
	if r.cl.tracing() {
		r.cl.traceOp(r, "<<-", kind.String(), arg)
	}
	if err := r.requireConnect(kind == opConnect); err != nil {
		return err
	}
	switch kind {
	case opConnect:
		return r.processConnect(arg)
	case opInfo:
		return r.processInfo(arg)
	case opPing:
		r.queue(pongLine)
	case opPong:
		r.mu.Lock()
		r.pingsOut = 0
		if !r.rttStart.IsZero() {
			r.rtt = time.Since(r.rttStart)
			r.rttStart = time.Time{}
		}
		r.mu.Unlock()
	case opOK:
	case opErr:
		// nats-server logs the peer's error and closes with ParseError,
		// sending nothing back.
		r.cl.log.Errorf("%s - Route Error %s", r, arg)
		r.Close(conn.ParseError)
		return errClosed
	case opRSub:
		return r.processRemoteSub(arg)
	case opRUnsub:
		return r.processRemoteUnsub(arg)
	}
	return nil
}

// onMsg handles RMSG and HMSG: the message is delivered to the local
// subscribers (never to another route), or dropped when it names an
// account this server does not have.
func (h *routeHandler) onMsg(m *msgArgs, payload []byte) error {
	r := (*Route)(h)
	if r.cl.tracing() {
		r.cl.traceMsg(r, m)
	}
	if err := r.requireConnect(false); err != nil {
		return err
	}
	r.inMsgs.Add(1)
	r.inBytes.Add(int64(len(payload)))
	r.cl.in.add(len(payload))
	if r.prod == nil {
		return nil
	}
	if _, err := r.prod.DeliverRouted(m.account, m.subject, m.reply, m.hdr, payload, m.queues); err != nil {
		r.unknownAccount(m.account, "routed message on subject "+strconv.Quote(string(m.subject)))
	}
	return nil
}

// unknownAccount logs, once per account and route, that the remote named
// an account this server does not have.
func (r *Route) unknownAccount(acc []byte, what string) {
	if r.unknown == nil {
		r.unknown = make(map[string]bool)
	}
	if r.unknown[string(acc)] {
		return
	}
	r.unknown[string(acc)] = true
	r.cl.log.Debugf("%s - Unknown account %q for %s", r, acc, what)
}

// requireConnect refuses anything but CONNECT as the first operation of an
// accepted route: -ERR 'Authorization Violation', AuthenticationViolation.
func (r *Route) requireConnect(isConnect bool) error {
	r.mu.Lock()
	missing := r.accepted && !r.connectIn && !isConnect
	r.mu.Unlock()
	if !missing {
		return nil
	}
	r.cl.log.Errorf("%s - authentication error", r)
	r.closeWithError("Authorization Violation", conn.AuthenticationViolation)
	return errClosed
}

// processConnect checks a CONNECT: the credentials (accepted routes, with
// cluster authorization), that it comes from a route (no lang: a client;
// no gateway: a gateway) and the cluster name. Texts and close reasons are
// nats-server's.
func (r *Route) processConnect(arg []byte) error {
	var ci connectInfo
	if err := json.Unmarshal(arg, &ci); err != nil {
		return &protoError{errBadArgs, fmt.Sprintf("CONNECT: %v", err)}
	}
	cfg := r.cl.config()
	r.mu.Lock()
	r.connectIn = true
	if r.authTmr != nil {
		r.authTmr.Stop()
		r.authTmr = nil
	}
	r.mu.Unlock()
	if r.accepted && cfg.Username != "" && !checkAuth(cfg, ci.User, ci.Pass) {
		r.cl.log.Errorf("%s - authentication error - User %q", r, ci.User)
		r.closeWithError("Authorization Violation", conn.AuthenticationViolation)
		return errClosed
	}
	if ci.Lang != "" {
		r.closeWithError("attempted to connect to route port", conn.WrongPort)
		return errClosed
	}
	if ci.Gateway != "" {
		text := fmt.Sprintf("Rejecting connection from gateway %q on the Route port", ci.Gateway)
		r.cl.log.Errorf("%s - %s", r, text)
		r.closeWithError(text, conn.WrongGateway)
		return errClosed
	}
	if ci.Cluster == reservedClusterName {
		text := fmt.Sprintf("Rejecting connection, cluster name %q is reserved", ci.Cluster)
		r.cl.log.Errorf("%s - %s", r, text)
		r.closeWithError(text, conn.ClusterNameConflict)
		return errClosed
	}
	if ci.Cluster != cfg.Name {
		text := fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", ci.Cluster, cfg.Name)
		r.cl.log.Errorf("%s - %s", r, text)
		r.closeWithError(text, conn.ClusterNameConflict)
		return errClosed
	}
	r.mu.Lock()
	if r.remoteID == "" {
		r.remoteID = ci.Name
	}
	r.mu.Unlock()
	return nil
}

// reservedClusterName is the cluster name nats-server keeps for leaf-node
// origin bookkeeping.
const reservedClusterName = "_"

// checkAuth compares a route's credentials with cluster.authorization; the
// configured password may be a bcrypt hash.
func checkAuth(cfg *Config, user, pass string) bool {
	if subtle.ConstantTimeCompare([]byte(user), []byte(cfg.Username)) != 1 {
		return false
	}
	if strings.HasPrefix(cfg.Password, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(cfg.Password), []byte(pass)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.Password)) == 1
}

// processInfo handles an INFO: the first one decides whether the route is
// registered; a later one from the same server updates it (lame duck), and
// one about another server is gossip.
func (r *Route) processInfo(arg []byte) error {
	var info Info
	if err := json.Unmarshal(arg, &info); err != nil {
		return &protoError{errBadArgs, fmt.Sprintf("INFO: %v", err)}
	}
	r.mu.Lock()
	first := !r.infoIn
	r.mu.Unlock()
	if first {
		return r.processFirstInfo(&info)
	}
	return r.processAsyncInfo(&info)
}

// processFirstInfo applies nats-server's checks to the first INFO, then
// registers the route.
func (r *Route) processFirstInfo(info *Info) error {
	cfg := r.cl.config()
	switch {
	case info.ID == cfg.Server.ID:
		r.mu.Lock()
		r.self, r.noReconnect, r.remoteID = true, true, info.ID
		u := r.url
		r.mu.Unlock()
		if u != nil {
			r.cl.log.Infof("%s - Detected route to self, ignoring %q", r, redacted(u))
		}
		r.Close(conn.DuplicateRoute)
		return errClosed
	case info.Cluster == reservedClusterName:
		r.Close(conn.ClusterNameConflict)
		return errClosed
	case info.Cluster != "" && info.Cluster != cfg.Name:
		r.cl.log.Errorf("%s - Route rejected: cluster name %q does not match %q", r, info.Cluster, cfg.Name)
		r.Close(conn.ClusterNameConflict)
		return errClosed
	case r.accepted && info.Name == cfg.Server.Name:
		r.cl.log.Errorf("%s - Remote server has a duplicate name: %q", r, info.Name)
		r.Close(conn.DuplicateServerName)
		return errClosed
	case info.RouteAccount != "":
		// A dedicated per-account route needs pooling, which natsd does
		// not speak: refuse it as nats-server refuses it with an old
		// server, and do not redial it.
		r.mu.Lock()
		r.noReconnect = true
		r.mu.Unlock()
		text := fmt.Sprintf("Not possible to have a dedicated route for account %q between those servers", info.RouteAccount)
		r.cl.log.Errorf("%s - %s", r, text)
		r.closeWithError(text, conn.ProtocolViolation)
		return errClosed
	}
	r.mu.Lock()
	if info.IP == "" {
		info.IP = "nats-route://" + net.JoinHostPort(r.host, strconv.Itoa(info.Port)) + "/"
	}
	r.infoIn = true
	r.remote = *info
	r.remoteID = info.ID
	if r.url == nil {
		r.url, _ = url.Parse("nats-route://" + net.JoinHostPort(info.Host, strconv.Itoa(info.Port)) + "/")
	}
	r.mu.Unlock()
	cause := fmt.Sprintf("remote %s %q", info.ID, info.Name)
	if r.fire(EventRegistered, cause) {
		r.cl.log.Debugf("%s - Registering remote route %q", r, info.ID)
		return nil
	}
	if r.State() == Handshaking {
		// before_registered refused it: the server is stopping, or another
		// route to that server is registered.
		if r.cl.isStopping() {
			r.Close(conn.ServerShutdown)
			return errClosed
		}
		r.cl.log.Debugf("%s - Detected duplicate remote route %q", r, info.ID)
		r.Close(conn.DuplicateRoute)
	}
	return errClosed
}

// processAsyncInfo handles an INFO after the first: from the same server
// it may announce lame duck; about another server it is gossip.
func (r *Route) processAsyncInfo(info *Info) error {
	r.mu.Lock()
	remoteID := r.remoteID
	r.mu.Unlock()
	switch {
	case info.RouteAccReqID != "":
		// Per-account route negotiation (pooling): not for an unpooled peer.
	case info.Gateway != "":
		r.cl.log.Errorf("Received information about gateway %q from %s, but gateway is not configured", info.Gateway, remoteID)
	case remoteID != "" && info.ID != remoteID:
		r.cl.implicitRoute(info)
	case info.LameDuckMode:
		r.cl.remoteLameDuck(r)
	}
	return nil
}

// processRemoteSub records "RS+ <account> <subject> [<queue> <weight>]"
// in the remote interest. A second RS+ for a queue replaces its weight; a
// weight below 1 counts as 1, as nats-server does. Interest in an account
// this server does not have is dropped, as nats-server drops it.
func (r *Route) processRemoteSub(arg []byte) error {
	args := splitArgs(arg, nil)
	var key interestKey
	weight := int32(1)
	switch len(args) {
	case 2:
	case 4:
		key.queue = string(args[2])
		if w := parseSize(args[3]); w > 1 {
			weight = int32(w)
		}
	default:
		return &protoError{errBadArgs, fmt.Sprintf("processRemoteSub Parse Error: '%s'", snippet(arg))}
	}
	key.account, key.subject = string(args[0]), string(args[1])
	if !subject.ValidSubject(key.subject) || (key.queue != "" && !subject.ValidQueue(key.queue)) {
		r.cl.log.Errorf("%s - Could not insert subscription: invalid subject %q", r, key.subject)
		r.sendErr("Invalid Subscription")
		return nil
	}
	if r.prod != nil && r.prod.Account(key.account) == nil {
		r.unknownAccount(args[0], "subject "+strconv.Quote(key.subject))
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.State(); st != Handshaking && st != Active {
		return nil // closing: its interest is being dropped
	}
	if rs := r.interest[key]; rs != nil {
		rs.weight.Store(weight)
		return nil
	}
	rs := &remoteSub{r: r, queue: key.queue}
	rs.weight.Store(weight)
	if err := r.cl.router.remoteIndexFor(key.account).Insert(key.subject, key.queue, rs); err != nil {
		return nil
	}
	if r.interest == nil {
		r.interest = make(map[interestKey]*remoteSub)
	}
	r.interest[key] = rs
	return nil
}

// processRemoteUnsub removes "RS- <account> <subject> [<queue>]".
func (r *Route) processRemoteUnsub(arg []byte) error {
	args := splitArgs(arg, nil)
	var key interestKey
	switch len(args) {
	case 2:
	case 3:
		key.queue = string(args[2])
	default:
		return &protoError{errBadArgs, fmt.Sprintf("processRemoteUnsub parse error: '%s'", snippet(arg))}
	}
	key.account, key.subject = string(args[0]), string(args[1])
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.interest[key]
	if rs == nil {
		return nil
	}
	delete(r.interest, key)
	if ix := r.cl.router.remoteIndex(key.account); ix != nil {
		ix.Remove(key.subject, key.queue, rs)
	}
	return nil
}

// pingTimerFired runs every route ping interval. Unlike a client's, a
// route's PING is never skipped for recent traffic; one with ping_max
// PINGs unanswered is closed as stale.
func (r *Route) pingTimerFired() {
	cfg := r.cl.config()
	r.mu.Lock()
	if st := r.State(); st != Handshaking && st != Active {
		r.mu.Unlock()
		return
	}
	if r.pingsOut+1 > cfg.pingMax() {
		r.mu.Unlock()
		r.cl.log.Debugf("%s - Stale Route Connection - Closing", r)
		r.closeWithError("Stale Connection", conn.StaleConnection)
		return
	}
	r.pingsOut++
	if r.rttStart.IsZero() {
		r.rttStart = time.Now()
	}
	r.pingTmr = time.AfterFunc(cfg.pingInterval(), r.pingTimerFired)
	r.mu.Unlock()
	r.queue(pingLine)
}

// authTimerFired closes an accepted route that sent no CONNECT in time.
func (r *Route) authTimerFired() {
	r.mu.Lock()
	late := !r.connectIn
	r.mu.Unlock()
	if late {
		r.closeWithError("Authentication Timeout", conn.AuthenticationTimeout)
	}
}
