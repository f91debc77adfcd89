package conn

import (
	"errors"
	"sync"
)

// InternalHandler receives a message that matched an internal subscription:
// its subject, its reply subject (empty without), its header block (nil
// without) and its payload. It runs on the publisher's goroutine, inside
// the delivery: it must not block, and must copy whatever it keeps, since
// the slices are only valid during the call. Messages from other servers of
// the cluster arrive the same way, on the route's reader.
type InternalHandler func(subject, reply, hdr, payload []byte)

// SubscribeInternal adds an internal subscription on subject (wildcards
// allowed) to the account: every message published in the account (or
// forwarded into it by an import) that matches it is handed to h, and
// counts as delivered, so a requester gets no 503 no-responders status.
// The subscription belongs to no connection; sid names it in /subsz. Its
// interest reaches the routes like a client's.
func (a *Account) SubscribeInternal(subject, sid string, h InternalHandler) (*Subscription, error) {
	if h == nil {
		return nil, errors.New("internal subscription without a handler")
	}
	s := &Subscription{subject: subject, sid: sid, imp: &importHop{kind: hopInternal, recv: h}}
	if err := a.insert(s); err != nil {
		return nil, err
	}
	return s, nil
}

// UnsubscribeInternal removes an internal subscription made by
// [Account.SubscribeInternal]. It is safe to call more than once.
func (a *Account) UnsubscribeInternal(s *Subscription) {
	if s != nil && s.imp != nil && s.imp.kind == hopInternal {
		a.remove(s)
	}
}

// Interested reports whether a message published on subject in the account
// would reach anyone but the server itself: a client, an import or any
// other subscription that is not internal. The answer is a cached match of
// the account's index, so asking before building an event costs little.
// In a cluster the answer is always yes: the other servers listen to each
// other's events (nats-server sends its own whenever it has a cluster
// port, without looking at interest), and what the routes want is the
// Router's to decide.
func (a *Account) Interested(subject string) bool {
	if a.router != nil {
		return true
	}
	r := a.Index.Match(subject)
	for _, g := range r.Queues {
		if len(g) > 0 {
			return true
		}
	}
	for _, s := range r.Plain {
		if !s.internal() {
			return true
		}
	}
	return false
}

// internal reports whether s hands its messages to the server itself: an
// internal subscription, or the shadow of one.
func (s *Subscription) internal() bool {
	if s.imp != nil && s.imp.kind == hopShadow {
		s = s.imp.orig
	}
	return s.imp != nil && s.imp.kind == hopInternal
}

// Internal is the server's own client: it publishes messages into
// accounts without a socket, through the same delivery as a client's PUB
// (permissions of the receivers, imports, max_pending and the stall gate
// included) and to the other servers of the cluster, as a [Producer]. It
// has no subscriptions of its own (see [Account.SubscribeInternal]). Its
// Publish calls are serialised.
type Internal struct {
	mu sync.Mutex
	p  *Producer
}

// NewInternal returns the internal client of the server whose connections
// share sh, acting for account acc (named in Nats-Request-Info when it
// publishes to a service import) with the server information of cfg.
func NewInternal(sh *Shared, cfg *Config, acc *Account) *Internal {
	p := NewProducer(sh, false)
	p.c.cfg = cfg
	p.c.auth.acc = acc
	p.c.auth.id.Account = acc.name
	return &Internal{p: p}
}

// Publish delivers one message in account acc, with headers hdr (a
// complete NATS/1.0 header block, or nil) and payload, to every matching
// subscription, wakes the writers of the connections it queued to, and
// returns the number of deliveries. The message is queued to each
// receiver before Publish returns, so a receiver closed afterwards with a
// flushing reason still gets it.
func (in *Internal) Publish(acc *Account, subject, reply string, hdr, payload []byte) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	hdrLen, msg := -1, payload
	if len(hdr) > 0 {
		hdrLen = len(hdr)
		msg = make([]byte, 0, len(hdr)+len(payload))
		msg = append(append(msg, hdr...), payload...)
	}
	n := in.p.Publish(acc, []byte(subject), []byte(reply), hdrLen, msg)
	in.p.Flush()
	return n
}

// headerOf returns the header block of a message whose first hdrLen bytes
// are headers (none for hdrLen < 0).
func headerOf(hdrLen int, msg []byte) []byte {
	if hdrLen <= 0 {
		return nil
	}
	return msg[:hdrLen]
}
