package subject

// vec is an immutable list: a tree of arrays of up to vecWidth entries, so
// that a changed copy (an item pushed, replaced or popped) shares every
// array but those on one path with the original and costs O(log n) to
// make, while a reader still holding the original is never disturbed. The
// index keeps the members of each subscription set in one, so that a Match
// can read a snapshot of them without the index lock and an Insert or
// Remove never copies a whole set. The zero vec is empty.
type vec[T any] struct {
	root *vnode[T]
	// n and shift are 32 bits each, so that a vec takes two words: every
	// node holds two vecs, and a snapshot is two.
	n     int32
	shift uint32 // vecBits × (height - 1): the shift of the root's index digit
}

// vnode is one array of the tree: kids in an interior node, items in a
// leaf. It is never changed once a vec refers to it.
type vnode[T any] struct {
	kids  []*vnode[T]
	items []T
}

const (
	vecBits  = 5
	vecWidth = 1 << vecBits
	vecMask  = vecWidth - 1
)

// A leaf of up to four items is one allocation: the vnode and its items
// side by side (most subscription sets hold one item).
type (
	leaf1[T any] struct {
		vnode[T]
		arr [1]T
	}
	leaf2[T any] struct {
		vnode[T]
		arr [2]T
	}
	leaf4[T any] struct {
		vnode[T]
		arr [4]T
	}
)

// newLeaf returns a leaf holding n items (1 <= n <= vecWidth), all zero,
// for the caller to fill before any vec refers to it.
func newLeaf[T any](n int) *vnode[T] {
	switch {
	case n == 1:
		l := &leaf1[T]{}
		l.items = l.arr[:]
		return &l.vnode
	case n == 2:
		l := &leaf2[T]{}
		l.items = l.arr[:]
		return &l.vnode
	case n <= 4:
		l := &leaf4[T]{}
		l.items = l.arr[:n:n]
		return &l.vnode
	}
	return &vnode[T]{items: make([]T, n)}
}

// leafOf returns a new leaf holding a copy of items with x appended
// (when push) or not.
func leafOf[T any](items []T, x T, push bool) *vnode[T] {
	n := len(items)
	if push {
		n++
	}
	nd := newLeaf[T](n)
	copy(nd.items, items)
	if push {
		nd.items[n-1] = x
	}
	return nd
}

func (v vec[T]) len() int { return int(v.n) }

// at returns item i (0 <= i < len).
func (v vec[T]) at(i int) T {
	nd := v.root
	for shift := uint(v.shift); shift > 0; shift -= vecBits {
		nd = nd.kids[(i>>shift)&vecMask]
	}
	return nd.items[i&vecMask]
}

// appendTo appends the items, in order, to dst.
func (v vec[T]) appendTo(dst []T) []T {
	if v.n == 0 {
		return dst
	}
	return appendNode(dst, v.root, uint(v.shift))
}

func appendNode[T any](dst []T, nd *vnode[T], shift uint) []T {
	if shift == 0 {
		return append(dst, nd.items...)
	}
	for _, k := range nd.kids {
		dst = appendNode(dst, k, shift-vecBits)
	}
	return dst
}

// each calls f with every item, in order.
func (v vec[T]) each(f func(T)) {
	if v.n > 0 {
		eachNode(v.root, uint(v.shift), f)
	}
}

func eachNode[T any](nd *vnode[T], shift uint, f func(T)) {
	if shift == 0 {
		for _, x := range nd.items {
			f(x)
		}
		return
	}
	for _, k := range nd.kids {
		eachNode(k, shift-vecBits, f)
	}
}

// push returns v with x appended.
func (v vec[T]) push(x T) vec[T] {
	switch {
	case v.n == 0:
		return vec[T]{root: leafOf(nil, x, true), n: 1}
	case int(v.n) == 1<<(v.shift+vecBits): // the tree is full: grow a level
		root := &vnode[T]{kids: []*vnode[T]{v.root, newPath(uint(v.shift), x)}}
		return vec[T]{root: root, n: v.n + 1, shift: v.shift + vecBits}
	}
	return vec[T]{root: pushAt(v.root, uint(v.shift), int(v.n), x), n: v.n + 1, shift: v.shift}
}

// newPath returns a branch of the given shift holding x alone.
func newPath[T any](shift uint, x T) *vnode[T] {
	if shift == 0 {
		return leafOf(nil, x, true)
	}
	return &vnode[T]{kids: []*vnode[T]{newPath(shift-vecBits, x)}}
}

// pushAt returns a copy of nd with x stored at index i, the first free one.
func pushAt[T any](nd *vnode[T], shift uint, i int, x T) *vnode[T] {
	if shift == 0 {
		return leafOf(nd.items, x, true)
	}
	k := (i >> shift) & vecMask
	kids := make([]*vnode[T], max(len(nd.kids), k+1))
	copy(kids, nd.kids)
	if k < len(nd.kids) {
		kids[k] = pushAt(nd.kids[k], shift-vecBits, i, x)
	} else {
		kids[k] = newPath(shift-vecBits, x)
	}
	return &vnode[T]{kids: kids}
}

// set returns v with item i (0 <= i < len) replaced by x.
func (v vec[T]) set(i int, x T) vec[T] {
	return vec[T]{root: setAt(v.root, uint(v.shift), i, x), n: v.n, shift: v.shift}
}

func setAt[T any](nd *vnode[T], shift uint, i int, x T) *vnode[T] {
	if shift == 0 {
		leaf := leafOf(nd.items, x, false)
		leaf.items[i&vecMask] = x
		return leaf
	}
	k := (i >> shift) & vecMask
	kids := make([]*vnode[T], len(nd.kids))
	copy(kids, nd.kids)
	kids[k] = setAt(nd.kids[k], shift-vecBits, i, x)
	return &vnode[T]{kids: kids}
}

// pop returns v without its last item (len > 0). The copy does not keep
// the popped item reachable.
func (v vec[T]) pop() vec[T] {
	if v.n == 1 {
		return vec[T]{}
	}
	root, shift := popAt(v.root, uint(v.shift), int(v.n)-1), v.shift
	for shift > 0 && len(root.kids) == 1 {
		root, shift = root.kids[0], shift-vecBits
	}
	return vec[T]{root: root, n: v.n - 1, shift: shift}
}

// popAt returns a copy of nd without its item at index i, the last one, or
// nil when nothing is left in it.
func popAt[T any](nd *vnode[T], shift uint, i int) *vnode[T] {
	if shift == 0 {
		if len(nd.items) == 1 {
			return nil
		}
		var zero T
		return leafOf(nd.items[:len(nd.items)-1], zero, false)
	}
	k := (i >> shift) & vecMask
	child := popAt(nd.kids[k], shift-vecBits, i)
	if child == nil && k == 0 {
		return nil
	}
	n := k + 1
	if child == nil {
		n = k
	}
	kids := make([]*vnode[T], n)
	copy(kids, nd.kids[:n])
	if child != nil {
		kids[k] = child
	}
	return &vnode[T]{kids: kids}
}
