package conn

// What the server's administrative requests read of a connection beyond
// its [Snapshot].

// Protocol returns the protocol level the client declared in CONNECT (0
// before CONNECT): 1 and above understand an asynchronous INFO, such as the
// lame-duck announcement.
func (c *Conn) Protocol() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts.Protocol
}

// SubInfo describes one subscription of a connection, as /subsz lists it.
type SubInfo struct {
	Subject string
	Queue   string
	SID     string
	// Msgs is the number of messages delivered for it; Max its
	// auto-unsubscribe limit (0: none).
	Msgs, Max int64
}

// Subs returns the subscriptions of the connection the snapshot was taken
// of, as they are now (none once it is closed). They are copied under the
// connection's subscription lock, which no delivery takes.
func (s *Snapshot) Subs() []SubInfo {
	if s.conn == nil {
		return nil
	}
	c := s.conn
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	out := make([]SubInfo, 0, len(c.subs))
	for _, sub := range c.subs {
		out = append(out, SubInfo{Subject: sub.subject, Queue: sub.queue, SID: sub.sid, Msgs: sub.delivered.Load(), Max: sub.max.Load()})
	}
	return out
}

// Account returns the name of the account the client is in (the global
// account until it authenticates into another).
func (c *Conn) Account() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auth.id.Account
}
