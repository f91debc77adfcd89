package parser

import (
	"math/bits"
	"sync"
)

// Bodies larger than keepBodyMax that straddle reads are collected in
// buffers shared by every Parser: one pool per power-of-two size from
// twice keepBodyMax up to bodyUpfront. A large body then costs neither an
// allocation (zeroed, and soon collected again) per message nor memory
// held by an idle connection. A delivered body is not kept by anyone (the
// Handler's slices are valid only during the call), so its buffer goes
// back to the pool as soon as OnPub returns.
const (
	minPooledShift = 17 // 128 KiB, twice keepBodyMax
	maxPooledShift = 20 // 1 MiB, bodyUpfront
)

var bodyPools [maxPooledShift - minPooledShift + 1]sync.Pool

// pooledBody returns an empty buffer from the pools with room for size
// bytes (keepBodyMax < size; at most bodyUpfront of them).
func pooledBody(size int) []byte {
	shift := max(bits.Len(uint(min(size, bodyUpfront)-1)), minPooledShift)
	if b, ok := bodyPools[shift-minPooledShift].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 1<<shift)
}

// releaseBody puts a body buffer back into its pool if it came from one.
// Only pooled buffers have a power-of-two capacity in the pools' range:
// the kept buffer is at most keepBodyMax, and a grown one exceeds
// bodyUpfront.
func releaseBody(b []byte) {
	c := cap(b)
	shift := bits.Len(uint(c)) - 1
	if c == 0 || c != 1<<shift || shift < minPooledShift || shift > maxPooledShift {
		return
	}
	kept := new([]byte)
	*kept = b[:0]
	bodyPools[shift-minPooledShift].Put(kept)
}

// directBodyMin is the least that must be left of a straddling body for
// [Parser.BodyRoom] to offer its buffer for a direct read.
const directBodyMin = 16 << 10

// BodyRoom returns, while a PUB or HPUB body that straddles reads is being
// collected and at least directBodyMin bytes of it are still to come, the
// free room of its buffer (at most what is left of the body). The caller
// may read the connection's next bytes straight into it and report them
// with [Parser.BodyRead], which spares copying them out of its own read
// buffer. Otherwise BodyRoom returns nil and the caller reads as usual.
func (p *Parser) BodyRoom() []byte {
	if p.err != nil || p.state != msgPayload {
		return nil
	}
	left := p.pa.size - len(p.body)
	if left < directBodyMin {
		return nil
	}
	if len(p.body) == cap(p.body) {
		p.growBody(left)
	}
	n := len(p.body)
	return p.body[n : n+min(left, cap(p.body)-n)]
}

// BodyRead records that the first n bytes of the slice [Parser.BodyRoom]
// returned are the connection's next bytes. The body's end (CRLF) and its
// delivery come with the next [Parser.Parse].
func (p *Parser) BodyRead(n int) {
	p.body = p.body[:len(p.body)+n]
	p.off += int64(n)
	if len(p.body) == p.pa.size {
		p.state = msgEndR
	}
}
