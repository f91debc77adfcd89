package system

import "sync"

// QueueLimit is how many messages each of the client's queues holds; what
// comes on top is dropped.
const QueueLimit = 8192

// queue is a bounded FIFO drained by one goroutine: push never blocks, and
// ready is signalled once whenever the queue goes from empty to not empty.
type queue[T any] struct {
	mu      sync.Mutex
	items   []T
	closed  bool
	dropped bool // a push was refused since the last pop, for logging once
	ready   chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{ready: make(chan struct{}, 1)} }

// push adds v and reports whether it was taken: not when the queue is
// full or closed. first reports the first refusal of a run of them.
func (q *queue[T]) push(v T) (ok, first bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items) >= QueueLimit {
		first = !q.closed && !q.dropped
		q.dropped = true
		return false, first
	}
	q.items = append(q.items, v)
	if len(q.items) == 1 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return true, false
}

// pop takes everything queued.
func (q *queue[T]) pop() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	q.dropped = false
	return items
}

// close refuses every later push; what is queued stays for pop.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
