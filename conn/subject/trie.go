package subject

import (
	"strings"
	"sync/atomic"
)

// level is one token position of the trie: the children reached by a literal
// token, by "*" and by ">".
type level[T comparable] struct {
	literal map[string]*node[T] // nil until the first literal child
	star    *node[T]
	rest    *node[T]
}

// node is the end of a subscription subject prefix. It holds the
// subscriptions whose subject ends here and the level of the next token.
// Everything but snap is guarded by the index lock; snap is what readers
// without the lock see.
type node[T comparable] struct {
	next  *level[T] // nil when no longer subject passes through here
	plain members[T]
	// queues holds the node's queue groups by name (nil until the first),
	// groups the same groups as readers see them, group g at groups[g.at].
	queues map[string]*group[T]
	groups vec[groupSnap[T]]
	// snap is the node's subscriptions at the last change, replaced (never
	// changed) by every Insert and Remove that changes the node; nil means
	// none.
	snap atomic.Pointer[nodeSnap[T]]
}

// group is one queue group of a node.
type group[T comparable] struct {
	name    string // owned copy
	members members[T]
	at      int // the group's index in its node's groups
}

// groupSnap is a queue group as readers see it.
type groupSnap[T comparable] struct {
	name  string
	items vec[T]
}

// nodeSnap is what one node holds at one moment. It is immutable.
type nodeSnap[T comparable] struct {
	plain  vec[T]
	groups vec[groupSnap[T]]
}

// members is a set of items kept in a vec, which readers may hold on to,
// and, once the set is not small, a map from item to position for O(1)
// removal.
type members[T comparable] struct {
	list vec[T]
	pos  map[T]int // nil while the set has fewer than posMapMin items
}

// posMapMin is the size from which a set indexes its items by a map rather
// than searching its (single-leaf) vec.
const posMapMin = 8

// find returns the position of item in the set.
func (m *members[T]) find(item T) (int, bool) {
	if m.pos != nil {
		i, ok := m.pos[item]
		return i, ok
	}
	for i := range m.list.len() {
		if m.list.at(i) == item {
			return i, true
		}
	}
	return -1, false
}

// add puts item in the set and reports whether it was absent.
func (m *members[T]) add(item T) bool {
	if _, ok := m.find(item); ok {
		return false
	}
	if m.pos == nil && m.list.len() >= posMapMin {
		m.pos = make(map[T]int, m.list.len()+1)
		for i := range m.list.len() {
			m.pos[m.list.at(i)] = i
		}
	}
	if m.pos != nil {
		m.pos[item] = m.list.len()
	}
	m.list = m.list.push(item)
	return true
}

// remove takes item out of the set and reports whether it was present. The
// last item moves into the freed place, so order is not kept.
func (m *members[T]) remove(item T) bool {
	i, ok := m.find(item)
	if !ok {
		return false
	}
	if last := m.list.len() - 1; i != last {
		moved := m.list.at(last)
		m.list = m.list.set(i, moved)
		if m.pos != nil {
			m.pos[moved] = i
		}
	}
	m.list = m.list.pop()
	if m.pos != nil {
		delete(m.pos, item)
		if m.list.len() < posMapMin/2 {
			m.pos = nil
		}
	}
	return true
}

func (m *members[T]) len() int { return m.list.len() }

// publish makes the node's current subscriptions what readers see.
func (n *node[T]) publish() {
	if n.plain.len() == 0 && n.groups.len() == 0 {
		n.snap.Store(nil)
		return
	}
	n.snap.Store(&nodeSnap[T]{plain: n.plain.list, groups: n.groups})
}

// addQueued puts item in the node's queue group queue and reports whether
// it was absent.
func (n *node[T]) addQueued(queue string, item T) bool {
	g := n.queues[queue]
	if g == nil {
		if n.queues == nil {
			n.queues = make(map[string]*group[T])
		}
		g = &group[T]{name: strings.Clone(queue), at: n.groups.len()}
		n.queues[g.name] = g
		n.groups = n.groups.push(groupSnap[T]{name: g.name})
	}
	if !g.members.add(item) {
		return false
	}
	n.groups = n.groups.set(g.at, groupSnap[T]{name: g.name, items: g.members.list})
	return true
}

// removeQueued takes item out of the node's queue group queue, dropping
// the group once empty, and reports whether it was present.
func (n *node[T]) removeQueued(queue string, item T) bool {
	g := n.queues[queue]
	if g == nil || !g.members.remove(item) {
		return false
	}
	if g.members.len() > 0 {
		n.groups = n.groups.set(g.at, groupSnap[T]{name: g.name, items: g.members.list})
		return true
	}
	if last := n.groups.len() - 1; g.at != last {
		moved := n.groups.at(last)
		n.groups = n.groups.set(g.at, moved)
		n.queues[moved.name].at = g.at
	}
	n.groups = n.groups.pop()
	delete(n.queues, queue)
	if len(n.queues) == 0 {
		n.queues = nil
	}
	return true
}

// child returns the node reached from l by token tok, or nil.
func (l *level[T]) child(tok string) *node[T] {
	switch tok {
	case starTok:
		return l.star
	case restTok:
		return l.rest
	}
	return l.literal[tok]
}

// makeChild returns the node reached from l by token tok, creating it.
func (l *level[T]) makeChild(tok string) *node[T] {
	if n := l.child(tok); n != nil {
		return n
	}
	n := &node[T]{}
	switch tok {
	case starTok:
		l.star = n
	case restTok:
		l.rest = n
	default:
		if l.literal == nil {
			l.literal = make(map[string]*node[T])
		}
		l.literal[strings.Clone(tok)] = n
	}
	return n
}

// drop unlinks the child reached by tok.
func (l *level[T]) drop(tok string) {
	switch tok {
	case starTok:
		l.star = nil
	case restTok:
		l.rest = nil
	default:
		delete(l.literal, tok)
	}
}

func (l *level[T]) empty() bool {
	return l.star == nil && l.rest == nil && len(l.literal) == 0
}

// empty reports whether n holds nothing and leads nowhere, so it can be pruned.
func (n *node[T]) empty() bool {
	return n.plain.len() == 0 && len(n.queues) == 0 && n.next == nil
}

// insert stores (subject, queue, item) under l and reports whether it was
// new, and the index of the first token whose node it had to create (-1:
// none; the nodes of every later token are new too). subject must be
// valid.
func (l *level[T]) insert(subject, queue string, item T) (added bool, firstNew int) {
	var n *node[T]
	firstNew = -1
	for depth := 0; ; depth++ {
		tok, after, more := strings.Cut(subject, ".")
		if n = l.child(tok); n == nil {
			n = l.makeChild(tok)
			if firstNew < 0 {
				firstNew = depth
			}
		}
		if !more {
			break
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, subject = n.next, after
	}
	if queue == "" {
		added = n.plain.add(item)
	} else {
		added = n.addQueued(queue, item)
	}
	if added {
		n.publish()
	}
	return added, firstNew
}

// step is one edge of the path walked by remove.
type step[T comparable] struct {
	from *level[T]
	tok  string
	to   *node[T]
}

// remove deletes (subject, queue, item) from under l, pruning what is left
// empty, and returns the node it was removed from, or nil if it was not
// present. subject must be valid.
func (l *level[T]) remove(subject, queue string, item T) *node[T] {
	var buf [32]step[T]
	path := buf[:0]
	for {
		tok, after, more := strings.Cut(subject, ".")
		n := l.child(tok)
		if n == nil {
			return nil
		}
		path = append(path, step[T]{from: l, tok: tok, to: n})
		if !more {
			break
		}
		if n.next == nil {
			return nil
		}
		l, subject = n.next, after
	}
	n := path[len(path)-1].to
	if queue == "" {
		if !n.plain.remove(item) {
			return nil
		}
	} else if !n.removeQueued(queue, item) {
		return nil
	}
	// Readers holding this node (cached entries) see the removal even if
	// the node is pruned below.
	n.publish()
	for i := len(path) - 1; i >= 0; i-- {
		s := path[i]
		if s.to.next != nil && s.to.next.empty() {
			s.to.next = nil
		}
		if !s.to.empty() {
			break
		}
		s.from.drop(s.tok)
	}
	return n
}

// collect appends to out every node under l at which a subscription
// subject matching toks ends, whether or not it holds subscriptions now.
// Tokens are taken literally: a publish token "*" is only matched by a "*"
// or ">" subscription token, never by a literal one.
func (l *level[T]) collect(toks []string, out []*node[T]) []*node[T] {
	for i, tok := range toks {
		last := i == len(toks)-1
		if l.rest != nil {
			out = append(out, l.rest)
		}
		if s := l.star; s != nil {
			if last {
				out = append(out, s)
			} else if s.next != nil {
				out = s.next.collect(toks[i+1:], out)
			}
		}
		n := l.literal[tok]
		if n == nil {
			return out
		}
		if last {
			return append(out, n)
		}
		if n.next == nil {
			return out
		}
		l = n.next
	}
	return out
}
