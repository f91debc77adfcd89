package subject

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

// buildResult merges the snapshots of the nodes a subject matches into a
// new [Result], or returns empty when they hold nothing. It runs without
// the index lock (the snapshots are immutable) and costs O(items): the
// plain items and the queue members are each copied into one array, and
// groups of one name from several nodes are merged through a map. The
// slices are clipped so that a caller's append cannot write into memory
// another caller reads.
func buildResult[T comparable](snaps []*nodeSnap[T], empty *Result[T]) *Result[T] {
	nplain, ngroups, nqueued, withGroups := 0, 0, 0, 0
	for _, s := range snaps {
		if s == nil {
			continue
		}
		nplain += s.plain.len()
		if g := s.groups.len(); g > 0 {
			ngroups += g
			withGroups++
			s.groups.each(func(g groupSnap[T]) { nqueued += g.items.len() })
		}
	}
	if nplain == 0 && ngroups == 0 {
		return empty
	}
	r := &Result[T]{}
	if nplain > 0 {
		plain := make([]T, 0, nplain)
		for _, s := range snaps {
			if s != nil {
				plain = s.plain.appendTo(plain)
			}
		}
		r.Plain = plain
	}
	if ngroups == 0 {
		return r
	}
	queued := make([]T, 0, nqueued)
	if withGroups == 1 {
		// Groups of one node have distinct names: no merging.
		r.Queues = make([][]T, 0, ngroups)
		for _, s := range snaps {
			if s == nil {
				continue
			}
			s.groups.each(func(g groupSnap[T]) {
				start := len(queued)
				queued = g.items.appendTo(queued)
				r.Queues = append(r.Queues, queued[start:len(queued):len(queued)])
			})
		}
		return r
	}
	// Several nodes have groups: one group per name, members in one run.
	index := make(map[string]int, ngroups)
	var sizes []int
	for _, s := range snaps {
		if s == nil {
			continue
		}
		s.groups.each(func(g groupSnap[T]) {
			i, ok := index[g.name]
			if !ok {
				i = len(sizes)
				index[g.name] = i
				sizes = append(sizes, 0)
			}
			sizes[i] += g.items.len()
		})
	}
	queued = queued[:nqueued]
	fill := make([]int, len(sizes))
	r.Queues = make([][]T, len(sizes))
	off := 0
	for i, n := range sizes {
		fill[i] = off
		r.Queues[i] = queued[off : off+n : off+n]
		off += n
	}
	for _, s := range snaps {
		if s == nil {
			continue
		}
		s.groups.each(func(g groupSnap[T]) {
			i := index[g.name]
			g.items.appendTo(queued[fill[i]:fill[i]])
			fill[i] += g.items.len()
		})
	}
	return r
}
