package subject

import "strings"

// level is one token position of the trie: the children reached by a literal
// token, by "*" and by ">".
type level[T comparable] struct {
	literal map[string]*node[T] // nil until the first literal child
	star    *node[T]
	rest    *node[T]
}

// node is the end of a subscription subject prefix. It holds the
// subscriptions whose subject ends here and the level of the next token.
type node[T comparable] struct {
	next   *level[T] // nil when no longer subject passes through here
	plain  members[T]
	queues map[string]*members[T] // nil until the first queue subscription
}

// members is a set of items kept as a slice for fast copying into results,
// with an index for O(1) removal.
type members[T comparable] struct {
	items []T
	pos   map[T]int
}

// add puts item in the set and reports whether it was absent.
func (m *members[T]) add(item T) bool {
	if _, ok := m.pos[item]; ok {
		return false
	}
	if m.pos == nil {
		m.pos = make(map[T]int)
	}
	m.pos[item] = len(m.items)
	m.items = append(m.items, item)
	return true
}

// remove takes item out of the set and reports whether it was present. The
// last item moves into the freed place, so order is not kept.
func (m *members[T]) remove(item T) bool {
	i, ok := m.pos[item]
	if !ok {
		return false
	}
	last := len(m.items) - 1
	if i != last {
		m.items[i] = m.items[last]
		m.pos[m.items[i]] = i
	}
	var zero T
	m.items[last] = zero // drop the reference for the collector
	m.items = m.items[:last]
	delete(m.pos, item)
	return true
}

func (m *members[T]) len() int { return len(m.items) }

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
// new. subject must be valid.
func (l *level[T]) insert(subject, queue string, item T) bool {
	var n *node[T]
	for {
		tok, after, more := strings.Cut(subject, ".")
		n = l.makeChild(tok)
		if !more {
			break
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, subject = n.next, after
	}
	if queue == "" {
		return n.plain.add(item)
	}
	g := n.queues[queue]
	if g == nil {
		if n.queues == nil {
			n.queues = make(map[string]*members[T])
		}
		g = &members[T]{}
		n.queues[strings.Clone(queue)] = g
	}
	return g.add(item)
}

// step is one edge of the path walked by remove.
type step[T comparable] struct {
	from *level[T]
	tok  string
	to   *node[T]
}

// remove deletes (subject, queue, item) from under l, pruning what is left
// empty, and reports whether it was present. subject must be valid.
func (l *level[T]) remove(subject, queue string, item T) bool {
	var buf [32]step[T]
	path := buf[:0]
	for {
		tok, after, more := strings.Cut(subject, ".")
		n := l.child(tok)
		if n == nil {
			return false
		}
		path = append(path, step[T]{from: l, tok: tok, to: n})
		if !more {
			break
		}
		if n.next == nil {
			return false
		}
		l, subject = n.next, after
	}
	n := path[len(path)-1].to
	if queue == "" {
		if !n.plain.remove(item) {
			return false
		}
	} else {
		g := n.queues[queue]
		if g == nil || !g.remove(item) {
			return false
		}
		if g.len() == 0 {
			delete(n.queues, queue)
		}
	}
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
	return true
}

// collect adds to c every subscription under l whose subject matches toks.
// Tokens are taken literally: a publish token "*" is only matched by a "*" or
// ">" subscription token, never by a literal one.
func (l *level[T]) collect(toks []string, c *collector[T]) {
	for i, tok := range toks {
		last := i == len(toks)-1
		if l.rest != nil {
			c.add(l.rest)
		}
		if s := l.star; s != nil {
			if last {
				c.add(s)
			} else if s.next != nil {
				s.next.collect(toks[i+1:], c)
			}
		}
		n := l.literal[tok]
		if n == nil {
			return
		}
		if last {
			c.add(n)
			return
		}
		if n.next == nil {
			return
		}
		l = n.next
	}
}
