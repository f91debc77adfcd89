package listener

import "time"

// Backoff bounds for temporary accept errors, as in nats-server.
const (
	// MinAcceptDelay is the first pause after a temporary accept error and
	// the pause the backoff returns to after a successful accept.
	MinAcceptDelay = 10 * time.Millisecond
	// MaxAcceptDelay caps the pause between accept attempts.
	MaxAcceptDelay = time.Second
)

// backoff yields the pauses between failed accepts: MinAcceptDelay, then
// doubling, capped at MaxAcceptDelay. The zero value is ready to use. It is
// owned by the Serve goroutine and is not safe for concurrent use.
type backoff struct {
	next time.Duration
}

// delay returns the pause to take now and advances to the following one.
func (b *backoff) delay() time.Duration {
	if b.next < MinAcceptDelay {
		b.next = MinAcceptDelay
	}
	d := b.next
	b.next = min(2*d, MaxAcceptDelay)
	return d
}

// reset makes the next delay MinAcceptDelay again.
func (b *backoff) reset() { b.next = 0 }
