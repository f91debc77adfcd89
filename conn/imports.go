package conn

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/natsd/natsd/account"
)

// hopKind is what an import's internal subscription does with a message.
type hopKind int

const (
	// hopShadow delivers a message of the exporting account to the
	// importing subscription a shadow stands for, under the import's
	// subject (stream imports, see shadow.go).
	hopShadow hopKind = iota
	// hopService delivers a request of the importing account to the
	// exporting account's responders, with a reply subject of the
	// exporter's (_R_.) and the Nats-Request-Info header.
	hopService
	// hopResponse delivers an answer to an _R_. reply subject back to the
	// requester's reply subject in the requester's account.
	hopResponse
	// hopInternal hands a message to the server itself: an internal
	// subscription of the system account's client (see internal.go).
	hopInternal
)

// importHop is the forwarding rule of an internal subscription.
type importHop struct {
	kind      hopKind
	from, to  *Account      // the importing account; where the message goes
	orig      *Subscription // hopShadow: the subscription it stands for
	tr        account.Transform
	share     bool // services: the full client information
	rt        account.ResponseType
	threshold time.Duration
	recv      InternalHandler // hopInternal only
}

// maxHops bounds a chain of service imports (the configuration refuses
// cycles; this is the guard behind it).
const maxHops = 8

// forward passes a message matched by an import's internal subscription on
// and returns the number of deliveries. A shadow delivers to its
// subscription only, not to the importing account's other subscriptions
// or imports (so stream imports do not chain), and not a message that
// already crossed an import (as nats-server: a message a service import
// brought into an account is not passed on to its exported streams).
func (c *Conn) forward(h *importHop, subj, reply []byte, hdrLen int, msg []byte, hops int) int {
	if hops >= maxHops {
		return 0
	}
	switch h.kind {
	case hopShadow:
		if hops > 0 {
			return 0
		}
		local := subj
		if !h.tr.Identity() {
			local = []byte(h.tr.Apply(string(subj)))
		}
		s := h.orig
		if s.imp != nil { // an internal subscription
			s.imp.recv(local, reply, headerOf(hdrLen, msg), msg[max(hdrLen, 0):])
			return 1
		}
		if c.deliver(s, local, reply, hdrLen, msg) {
			return 1
		}
		return 0
	case hopService:
		remote := []byte(h.tr.Apply(string(subj)))
		var nr []byte
		if len(reply) > 0 {
			nr = h.to.expectReply(h.from, string(reply), h.rt, h.threshold)
		}
		hdrLen, msg = setHeader(hdrLen, msg, requestInfoHeader, c.requestInfo(h))
		n := c.deliverIn(h.to, remote, nr, hdrLen, msg, hops+1, true)
		if n == 0 && nr != nil {
			h.to.forgetReply(string(nr))
		}
		return n
	case hopResponse:
		p := h.to.takeReply(string(subj), hdrLen, msg)
		if p == nil {
			return 0
		}
		return c.deliverIn(p.to, []byte(p.reply), nil, hdrLen, msg, hops+1, true)
	case hopInternal:
		h.recv(subj, reply, headerOf(hdrLen, msg), msg[max(hdrLen, 0):])
		return 1
	}
	return 0
}

// requestInfoHeader is the header nats-server adds to imported requests.
const requestInfoHeader = "Nats-Request-Info"

// clientInfo is the JSON of Nats-Request-Info, with nats-server's field
// names; without share only the account and the RTT are given.
type clientInfo struct {
	Start      *time.Time    `json:"start,omitempty"`
	Host       string        `json:"host,omitempty"`
	ID         uint64        `json:"id,omitempty"`
	Account    string        `json:"acc,omitempty"`
	User       string        `json:"user,omitempty"`
	Name       string        `json:"name,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Version    string        `json:"ver,omitempty"`
	RTT        time.Duration `json:"rtt,omitempty"`
	Server     string        `json:"server,omitempty"`
	Kind       string        `json:"kind,omitempty"`
	ClientType string        `json:"client_type,omitempty"`
}

// requestInfo describes the requester for the service's Nats-Request-Info.
func (c *Conn) requestInfo(h *importHop) []byte {
	ci := clientInfo{Account: h.from.name}
	c.mu.Lock()
	ci.RTT = c.rtt
	if h.share {
		start := time.Unix(0, c.entered[Open].Load()).UTC()
		ci.Start, ci.Host, ci.ID = &start, c.host, c.cid
		ci.User, ci.Name, ci.Lang, ci.Version = c.auth.id.User, c.opts.Name, c.opts.Lang, c.opts.Version
		ci.Server, ci.Kind, ci.ClientType = c.cfg.Info.ServerName, "Client", "nats"
	}
	c.mu.Unlock()
	b, _ := json.Marshal(ci)
	return b
}

// setHeader returns the message with header key set to value: added to
// its headers (replacing an existing one), or as the only header of a
// message that had none.
func setHeader(hdrLen int, msg []byte, key string, value []byte) (int, []byte) {
	line := make([]byte, 0, len(key)+len(value)+4)
	line = append(line, key...)
	line = append(line, ": "...)
	line = append(line, value...)
	line = append(line, "\r\n"...)
	if hdrLen < 0 {
		out := make([]byte, 0, len(msg)+len(line)+12)
		out = append(out, "NATS/1.0\r\n"...)
		out = append(out, line...)
		out = append(out, "\r\n"...)
		n := len(out)
		return n, append(out, msg...)
	}
	hdr, body := msg[:hdrLen], msg[hdrLen:]
	end := bytes.LastIndex(hdr, []byte("\r\n\r\n"))
	if end < 0 {
		return hdrLen, msg // not a header block: leave the message alone
	}
	lines := hdr[:end+2] // the status line and headers, each ending in CRLF
	out := make([]byte, 0, len(msg)+len(line))
	for len(lines) > 0 {
		i := bytes.Index(lines, []byte("\r\n"))
		l := lines[:i+2]
		lines = lines[i+2:]
		if k, _, ok := bytes.Cut(l, []byte(":")); ok && string(bytes.TrimSpace(k)) == key {
			continue
		}
		out = append(out, l...)
	}
	out = append(out, line...)
	out = append(out, "\r\n"...)
	n := len(out)
	return n, append(out, body...)
}

// replySweep is the number of pending replies at which expired ones are
// swept.
const replySweep = 1024

// expectReply registers an imported request to this account's service and
// returns the reply subject the service is to answer on.
func (a *Account) expectReply(from *Account, reply string, rt account.ResponseType, threshold time.Duration) []byte {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replyPrefix == "" {
		return nil
	}
	nr := a.replyPrefix + randomToken(6)
	if a.pending == nil {
		a.pending = make(map[string]*pendingReply)
	}
	if len(a.pending) >= max(a.sweepAt, replySweep) {
		for k, p := range a.pending {
			if now.After(p.expires) {
				delete(a.pending, k)
			}
		}
		a.sweepAt = 2 * len(a.pending)
	}
	a.pending[nr] = &pendingReply{to: from, reply: reply, rt: rt, expires: now.Add(threshold)}
	return []byte(nr)
}

// forgetReply drops a pending request.
func (a *Account) forgetReply(nr string) {
	a.mu.Lock()
	delete(a.pending, nr)
	a.mu.Unlock()
}

// takeReply returns where the answer on reply subject nr goes, or nil when
// it is unknown or expired. A singleton's entry is removed with its first
// answer, a chunked one's with its empty last chunk.
func (a *Account) takeReply(nr string, hdrLen int, msg []byte) *pendingReply {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending[nr]
	if p == nil {
		return nil
	}
	if time.Now().After(p.expires) {
		delete(a.pending, nr)
		return nil
	}
	if p.rt == account.Singleton || (p.rt == account.Chunked && len(msg) == 0) {
		delete(a.pending, nr)
	}
	return p
}

// numPending returns the number of requests waiting for an answer; for
// tests.
func (a *Account) numPending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}
