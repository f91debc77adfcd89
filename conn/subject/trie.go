package subject

import (
	"strings"
	"sync/atomic"
)

// level is one token position of the trie: the children reached by a literal
// token, by "*" and by ">". The first literal children sit in few, so that
// a level with one or two (most levels below the top ones) needs no map.
type level[T comparable] struct {
	few     [levelFew]litChild[T]
	literal map[string]*node[T] // the literal children not in few; nil until needed
	star    *node[T]
	rest    *node[T]
}

// levelFew is how many literal children a level holds without a map.
const levelFew = 2

// litChild is a level's child by a literal token; n is nil in a free place.
type litChild[T comparable] struct {
	tok string // owned copy
	n   *node[T]
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

// singleSnap is the snapshot of a node holding one plain item and nothing
// else, with the leaf of its list: one allocation.
type singleSnap[T comparable] struct {
	snap nodeSnap[T]
	leaf leaf1[T]
}

// addFirst makes item the only subscription of n, which holds none, and
// publishes it: the node's list and its snapshot share one allocation.
// (Not the node's own: a node outlives its subscriptions when it leads to
// others, and must then not keep a removed item reachable.)
func (n *node[T]) addFirst(item T) {
	b := &singleSnap[T]{}
	b.leaf.arr[0] = item
	b.leaf.items = b.leaf.arr[:]
	n.plain.list = vec[T]{root: &b.leaf.vnode, n: 1}
	b.snap.plain = n.plain.list
	n.snap.Store(&b.snap)
}

// publish makes the node's current subscriptions what readers see.
func (n *node[T]) publish() {
	if n.plain.len() == 0 && n.groups.len() == 0 {
		n.snap.Store(nil)
		return
	}
	n.snap.Store(&nodeSnap[T]{plain: n.plain.list, groups: n.groups})
}

// addQueued puts item in the node's queue group queue and reports whether
// it was absent. Unless owned, a new group's name is a copy of queue.
func (n *node[T]) addQueued(queue string, item T, owned bool) bool {
	g := n.queues[queue]
	if g == nil {
		if n.queues == nil {
			n.queues = make(map[string]*group[T])
		}
		if !owned {
			queue = strings.Clone(queue)
		}
		g = &group[T]{name: queue, at: n.groups.len()}
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
	return l.lit(tok)
}

// lit returns the node reached from l by the literal token tok, or nil.
func (l *level[T]) lit(tok string) *node[T] {
	for i := range l.few {
		if c := &l.few[i]; c.n != nil && c.tok == tok {
			return c.n
		}
	}
	if l.literal == nil {
		return nil
	}
	return l.literal[tok]
}

// addChild links the new node n under l by token tok, which has none,
// and returns n; tok is kept, so it must be the index's own copy.
func (l *level[T]) addChild(tok string, n *node[T]) *node[T] {
	switch tok {
	case starTok:
		l.star = n
	case restTok:
		l.rest = n
	default:
		for i := range l.few {
			if c := &l.few[i]; c.n == nil {
				c.tok, c.n = tok, n
				return n
			}
		}
		if l.literal == nil {
			l.literal = make(map[string]*node[T])
		}
		l.literal[tok] = n
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
		for i := range l.few {
			if c := &l.few[i]; c.n != nil && c.tok == tok {
				*c = litChild[T]{}
				return
			}
		}
		delete(l.literal, tok)
		if len(l.literal) == 0 {
			l.literal = nil
		}
	}
}

func (l *level[T]) empty() bool {
	if l.star != nil || l.rest != nil || len(l.literal) > 0 {
		return false
	}
	for i := range l.few {
		if l.few[i].n != nil {
			return false
		}
	}
	return true
}

// appendAll appends every item stored under l to out.
func (l *level[T]) appendAll(out []T) []T {
	for i := range l.few {
		if n := l.few[i].n; n != nil {
			out = n.appendAll(out)
		}
	}
	for _, n := range l.literal {
		out = n.appendAll(out)
	}
	if l.star != nil {
		out = l.star.appendAll(out)
	}
	if l.rest != nil {
		out = l.rest.appendAll(out)
	}
	return out
}

// appendAll appends the items of n and of the nodes below it to out.
func (n *node[T]) appendAll(out []T) []T {
	out = n.plain.list.appendTo(out)
	for _, g := range n.queues {
		out = g.members.list.appendTo(out)
	}
	if n.next != nil {
		out = n.next.appendAll(out)
	}
	return out
}

// empty reports whether n holds nothing and leads nowhere, so it can be pruned.
func (n *node[T]) empty() bool {
	return n.plain.len() == 0 && len(n.queues) == 0 && n.next == nil
}

// insert stores (subject, queue, item) under l and reports whether it was
// new, and the index of the first token whose node it had to create (-1:
// none; the nodes of every later token are new too). subject must be
// valid. With owned, the new nodes keep substrings of subject and queue,
// else of one copy.
func (l *level[T]) insert(subject, queue string, item T, owned bool) (added bool, firstNew int) {
	var n *node[T]
	firstNew = -1
	for depth := 0; ; depth++ {
		tok, after, more := strings.Cut(subject, ".")
		if n = l.child(tok); n == nil {
			if firstNew < 0 {
				// Every later token gets a node too: one copy of
				// the rest of the subject holds all their tokens.
				firstNew = depth
				if !owned {
					subject = strings.Clone(subject)
					tok, after, more = strings.Cut(subject, ".")
				}
			}
			n = l.addChild(tok, &node[T]{})
		}
		if !more {
			break
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, subject = n.next, after
	}
	switch {
	case queue != "":
		added = n.addQueued(queue, item, owned)
	case n.plain.len() == 0 && n.groups.len() == 0:
		n.addFirst(item)
		return true, firstNew
	default:
		added = n.plain.add(item)
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
		n := l.lit(tok)
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
