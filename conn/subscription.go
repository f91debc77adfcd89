package conn

import "sync/atomic"

// Subscription is one SUB of one connection, as stored in the subject index
// of its account; or, with imp set and no connection, the internal
// subscription of an import or of the server itself ([Account.SubscribeInternal]);
// or, with imp set and the connection of the subscription it stands for,
// the shadow of a subscription in an account that exports it a stream
// (shadow.go).
type Subscription struct {
	conn    *Conn
	acc     *Account   // the account whose index holds it
	imp     *importHop // non-nil: an import's internal subscription
	subject string
	queue   string
	sid     string
	// max is the auto-unsubscribe limit (0: none); delivered counts
	// messages handed to the connection for this subscription.
	max       atomic.Int64
	delivered atomic.Int64
	// filter is set when the subscriber's deny list may refuse some of the
	// subjects this subscription matches: each delivery is then checked.
	filter atomic.Bool

	// shadows stand for this subscription in the accounts whose streams
	// its account imports, made for the import list shadowsOf; gone is set
	// once it left its index. All three are guarded by its account's
	// shadowMu.
	shadows   []*Subscription
	shadowsOf *[]*streamImport
	gone      bool
}

// Conn returns the connection that owns the subscription.
func (s *Subscription) Conn() *Conn { return s.conn }

// Subject returns the subscribed subject (possibly with wildcards).
func (s *Subscription) Subject() string { return s.subject }

// Queue returns the queue group, or "".
func (s *Subscription) Queue() string { return s.queue }

// SID returns the client's subscription id.
func (s *Subscription) SID() string { return s.sid }
