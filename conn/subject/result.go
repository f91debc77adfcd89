package subject

import "slices"

// Result is what [Index.Match] returns: the subscriptions that match one
// published subject. It is shared (it may come from the cache and be handed
// to many callers at once) and must not be modified. The order of items, and
// of groups, is unspecified.
type Result[T comparable] struct {
	// Plain holds the non-queue subscriptions that match. An item subscribed
	// under two matching subjects appears twice, and so receives the
	// message twice, as in NATS.
	Plain []T
	// Queues holds one non-empty slice per queue group name that matches:
	// the members of that name over all matching subjects. A delivery picks
	// one member of each group.
	Queues [][]T
}

// Empty reports whether no subscription matched.
func (r *Result[T]) Empty() bool {
	return len(r.Plain) == 0 && len(r.Queues) == 0
}

// collector gathers the nodes a trie walk reaches into a new [Result]. It
// copies items, so the result never aliases the trie.
type collector[T comparable] struct {
	plain  []T
	names  []string // names[i] is the queue name of queues[i]
	queues [][]T
}

func (c *collector[T]) add(n *node[T]) {
	c.plain = append(c.plain, n.plain.items...)
	for name, g := range n.queues {
		i := slices.Index(c.names, name)
		if i < 0 {
			i = len(c.names)
			c.names = append(c.names, name)
			c.queues = append(c.queues, make([]T, 0, g.len()))
		}
		c.queues[i] = append(c.queues[i], g.items...)
	}
}

// result returns the gathered subscriptions, or empty when there are none.
// The slices are clipped so that a caller's append cannot write into memory
// another caller reads.
func (c *collector[T]) result(empty *Result[T]) *Result[T] {
	if len(c.plain) == 0 && len(c.queues) == 0 {
		return empty
	}
	for i := range c.queues {
		c.queues[i] = slices.Clip(c.queues[i])
	}
	return &Result[T]{Plain: slices.Clip(c.plain), Queues: slices.Clip(c.queues)}
}
