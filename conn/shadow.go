package conn

import "github.com/natsd/natsd/account"

// Stream imports work as nats-server's "shadow" subscriptions: every
// subscription of the importing account that can receive an import's
// messages has a shadow in the exporting account's index, on the
// exporter's subject (see [account.ShadowSubject]), with the same queue
// group and the same connection. A message published in the exporter
// matches the shadow, which delivers it to the importing subscription
// under the import's subject. So the exporter's interest in the cluster
// is that of the importers' subscriptions: a queue group of the importing
// account is a queue group (of the same name) in the exporting account,
// with its members' weight, and one member of it in the whole cluster
// gets each message. As in nats-server, an importing group and an
// exporter's own group of the same name and subject are one group there.

// streamImport is one stream import of an account, compiled.
type streamImport struct {
	exporter *Account
	from, to string            // the subject in the exporter, in the importer
	tr, rev  account.Transform // from -> to, and back
}

// shadowable reports whether s takes its account's stream imports: a
// client's subscription or an internal one, not an import's own.
func (s *Subscription) shadowable() bool {
	return s.imp == nil || s.imp.kind == hopInternal
}

// setStreams makes list the account's stream imports and gives every
// subscription of the account its shadows for them. A list equal to the
// one in force changes nothing.
func (a *Account) setStreams(list []*streamImport) {
	old := a.streams.Load()
	if old == nil && len(list) == 0 {
		return
	}
	if old != nil && sameStreams(*old, list) {
		return
	}
	var next *[]*streamImport
	if len(list) > 0 {
		// Set before the list is visible, so that a removal that may
		// find shadows looks for them.
		a.hadStreams.Store(true)
		next = &list
	}
	a.streams.Store(next)
	for _, s := range a.Index.All() {
		if s.shadowable() {
			a.shadow(s)
		}
	}
}

// sameStreams reports whether two lists of stream imports are the same
// imports, in the same order.
func sameStreams(x, y []*streamImport) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].exporter != y[i].exporter || x[i].from != y[i].from || x[i].to != y[i].to {
			return false
		}
	}
	return true
}

// shadow gives s (a subscription of a) its shadows for a's stream imports
// in force, replacing those it had for an earlier list: the new ones are
// inserted before the old ones leave, so a reload that keeps an import
// loses no message. It does nothing for a subscription already removed.
func (a *Account) shadow(s *Subscription) {
	a.shadowMu.Lock()
	defer a.shadowMu.Unlock()
	list := a.streams.Load()
	if s.gone || s.shadowsOf == list {
		return
	}
	old := s.shadows
	s.shadows, s.shadowsOf = nil, list
	if list != nil {
		for _, si := range *list {
			subj, ok := account.ShadowSubject(s.subject, si.from, si.to, si.rev)
			if !ok {
				continue
			}
			sh := &Subscription{conn: s.conn, subject: subj, queue: s.queue, sid: s.sid,
				imp: &importHop{kind: hopShadow, to: a, tr: si.tr, orig: s}}
			if si.exporter.insert(sh) == nil {
				s.shadows = append(s.shadows, sh)
			}
		}
	}
	for _, o := range old {
		o.acc.remove(o)
	}
}

// unshadow removes the shadows of s, which left a's index, and makes sure
// it gets no more.
func (a *Account) unshadow(s *Subscription) {
	a.shadowMu.Lock()
	s.gone = true
	old := s.shadows
	s.shadows = nil
	a.shadowMu.Unlock()
	for _, o := range old {
		o.acc.remove(o)
	}
}
