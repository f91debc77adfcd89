package system

import (
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/machine"
)

// globalAccount is the default account: it gets CONNECT and DISCONNECT
// events but, as in nats-server, no SERVER.CONNS.
const globalAccount = "$G"

// accountOf returns the account a snapshot names, the global one when it
// names none (a client that failed to authenticate).
func accountOf(s *conn.Snapshot) string {
	if s.Account == "" {
		return globalAccount
	}
	return s.Account
}

// clientInfo describes a connection from its snapshot.
func clientInfo(s *conn.Snapshot) ClientInfo {
	start := s.Start.UTC()
	acc := accountOf(s)
	return ClientInfo{
		Start: &start, Host: s.Host, ID: s.CID, Account: acc, User: s.AuthorizedUser,
		Name: s.Name, Lang: s.Lang, Version: s.Version, NameTag: acc, Kind: "Client", ClientType: "nats",
	}
}

// Connected publishes the CONNECT event of a client that has just
// authenticated (called on its reader goroutine), and counts it in its
// account for SERVER.CONNS. The event is built only if someone listens.
func (c *Client) Connected(cn *conn.Conn) {
	if !c.started.Load() || c.stopped.Load() {
		return
	}
	s := cn.Snapshot()
	acc := accountOf(&s)
	c.count(s.CID, acc)
	if subj := connectSubject(acc); c.interested(subj) {
		ev := &ConnectEventMsg{
			TypedEvent: TypedEvent{Type: ConnectEventType, ID: eventID(), Time: time.Now().UTC()},
			Client:     clientInfo(&s),
		}
		c.send(&outMsg{subj: subj, si: &ev.Server, v: ev})
	}
}

// Disconnected publishes the DISCONNECT event of a closed connection from
// its final snapshot: the close reason's text and the final counters.
func (c *Client) Disconnected(s conn.Snapshot) {
	if !c.started.Load() || c.stopped.Load() {
		return
	}
	c.uncount(s.CID)
	acc := accountOf(&s)
	if subj := disconnectSubject(acc); c.interested(subj) {
		ev := c.disconnectEvent(&s, s.Stop)
		c.send(&outMsg{subj: subj, si: &ev.Server, v: ev})
	}
}

// AuthFailed publishes the auth-error event of a client that failed to
// authenticate (and is closing) on $SYS.SERVER.<id>.CLIENT.AUTH.ERR.
func (c *Client) AuthFailed(cn *conn.Conn) {
	subj := serverSubject(c.cfg.ID, "CLIENT.AUTH.ERR")
	if !c.interested(subj) {
		return
	}
	s := cn.Snapshot()
	ev := c.disconnectEvent(&s, time.Now())
	c.send(&outMsg{subj: subj, si: &ev.Server, v: ev})
}

// disconnectEvent builds a client_disconnect advisory, with the server
// object to be stamped as it is sent.
func (c *Client) disconnectEvent(s *conn.Snapshot, stop time.Time) *DisconnectEventMsg {
	if stop.IsZero() {
		stop = time.Now()
	}
	stop = stop.UTC()
	ci := clientInfo(s)
	ci.RTT, ci.Stop = s.RTT, &stop
	return &DisconnectEventMsg{
		TypedEvent: TypedEvent{Type: DisconnectEventType, ID: eventID(), Time: stop},
		Client:     ci,
		Sent:       DataStats{MsgBytes: MsgBytes{Msgs: s.InMsgs, Bytes: s.InBytes}},
		Received:   DataStats{MsgBytes: MsgBytes{Msgs: s.OutMsgs, Bytes: s.OutBytes}},
		Reason:     s.Reason.String(),
	}
}

// LameDuck publishes the LAMEDUCK event: the bare server object.
func (c *Client) LameDuck() { c.serverEvent("LAMEDUCK") }

// serverEvent publishes a bare server object on $SYS.SERVER.<id>.<what>.
func (c *Client) serverEvent(what string) {
	subj := serverSubject(c.cfg.ID, what)
	if c.interested(subj) {
		si := &ServerInfo{}
		c.send(&outMsg{subj: subj, si: si, v: si})
	}
}

// Transition publishes natsd's LIFECYCLE event for one recorded transition
// of the server's state machine.
func (c *Client) Transition(t machine.Transition) {
	subj := serverSubject(c.cfg.ID, "LIFECYCLE")
	if !c.interested(subj) {
		return
	}
	t.At = t.At.UTC()
	ev := &LifecycleEventMsg{
		TypedEvent: TypedEvent{Type: LifecycleEventType, ID: eventID(), Time: t.At},
		Transition: t,
	}
	c.send(&outMsg{subj: subj, si: &ev.Server, v: ev})
}

// count counts connection cid in account acc (again after a second
// CONNECT, which may have moved it) and publishes the account's new count.
func (c *Client) count(cid uint64, acc string) {
	c.mu.Lock()
	prev, had := c.connAcc[cid]
	if had && prev == acc {
		c.mu.Unlock()
		return
	}
	if had {
		c.conns[prev]--
	}
	c.connAcc[cid] = acc
	c.conns[acc]++
	c.mu.Unlock()
	if had {
		c.connsUpdate(prev)
	}
	c.connsUpdate(acc)
}

// uncount forgets a closed connection and publishes its account's count.
func (c *Client) uncount(cid uint64) {
	c.mu.Lock()
	acc, had := c.connAcc[cid]
	if had {
		delete(c.connAcc, cid)
		if c.conns[acc]--; c.conns[acc] == 0 {
			delete(c.conns, acc)
		}
	}
	c.mu.Unlock()
	if had {
		c.connsUpdate(acc)
	}
}

// connsUpdate publishes an account's connection count on both
// SERVER.CONNS subjects, if anyone listens; never for the global account.
func (c *Client) connsUpdate(acc string) {
	if acc == globalAccount {
		return
	}
	subjs := connsSubjects(acc)
	var to []string
	for _, s := range subjs {
		if c.interested(s) {
			to = append(to, s)
		}
	}
	if len(to) == 0 {
		return
	}
	c.mu.Lock()
	n := c.conns[acc]
	c.mu.Unlock()
	var subs uint32
	if a := c.cfg.Shared.Accounts.Load().Lookup(acc); a != nil {
		subs = uint32(a.Index.Count())
	}
	ev := &AccountNumConns{
		TypedEvent: TypedEvent{Type: AccountConnsEventType, ID: eventID(), Time: time.Now().UTC()},
		AccountStat: AccountStat{
			Account: acc, Name: acc, Conns: n, TotalConns: n, NumSubs: subs,
			Sent:     DataStats{Gateways: &MsgBytes{}, Routes: &MsgBytes{}, Leafs: &MsgBytes{}},
			Received: DataStats{Gateways: &MsgBytes{}, Routes: &MsgBytes{}, Leafs: &MsgBytes{}},
		},
	}
	for _, s := range to {
		// Each subject gets its own copy: the server object is stamped
		// with its own sequence number as it is sent.
		cp := *ev
		c.send(&outMsg{subj: s, si: &cp.Server, v: &cp})
	}
}

// connsHeartbeat publishes the count of every account with connections.
func (c *Client) connsHeartbeat() {
	c.mu.Lock()
	accs := make([]string, 0, len(c.conns))
	for a := range c.conns {
		accs = append(accs, a)
	}
	c.mu.Unlock()
	for _, a := range accs {
		c.connsUpdate(a)
	}
}

// activeAccounts is the number of accounts with connections.
func (c *Client) activeAccounts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}
