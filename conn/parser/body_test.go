package parser

import (
	"bytes"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"
)

// TestBodyRoom: a reader that reads a large body straight into the body
// buffer, as the connection's read loop does, gets the same messages as
// one that hands every byte to Parse; small bodies are never offered;
// stream offsets in errors count the bytes read directly.
func TestBodyRoom(t *testing.T) {
	for _, tc := range []struct {
		size   int
		direct bool
	}{
		{size: directBodyMin - 1},
		{size: 40 << 10, direct: true},
		{size: keepBodyMax + 1, direct: true},
		{size: bodyUpfront, direct: true},
		{size: bodyUpfront + 100<<10, direct: true},
		{size: 3 << 20, direct: true},
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			p := New(-1, -1)
			var got [][]byte
			h := pubFunc(func(_, _ []byte, _ int, m []byte) error { got = append(got, bytes.Clone(m)); return nil })
			var want [][]byte
			for round := range 3 { // pooled buffers come back with old bytes in them
				msg := bytes.Repeat([]byte{byte('a' + round)}, tc.size)
				want = append(want, msg)
				in := append(append([]byte(fmt.Sprintf("PUB s %d\r\n", tc.size)), msg...), "\r\n"...)
				// The control line and a little of the body come with an
				// ordinary read; then 7000-byte reads, direct when offered.
				first := bytes.IndexByte(in, '\n') + 100
				assert.NilError(t, p.Parse(in[:first], h))
				rest := in[first:]
				offered := false
				for len(rest) > 0 {
					room := p.BodyRoom()
					n := min(7000, len(rest))
					if room != nil {
						offered = true
						n = copy(room, rest[:min(n, len(room))])
						p.BodyRead(n)
					} else {
						assert.NilError(t, p.Parse(rest[:n], h))
					}
					rest = rest[n:]
				}
				assert.Equal(t, offered, tc.direct)
			}
			assert.Equal(t, len(got), len(want))
			for i := range want {
				assert.Assert(t, bytes.Equal(got[i], want[i]), "message %d", i)
			}
			// The offset of a bad byte after the body counts every byte.
			in := []byte(fmt.Sprintf("PUB s %d\r\n", tc.size))
			assert.NilError(t, p.Parse(in, h))
			body := bytes.Repeat([]byte{'z'}, tc.size)
			for len(body) > 0 {
				room := p.BodyRoom()
				if room == nil {
					assert.NilError(t, p.Parse(body, h))
					break
				}
				n := copy(room, body)
				p.BodyRead(n)
				body = body[n:]
			}
			err := p.Parse([]byte("X"), h)
			assert.ErrorContains(t, err, fmt.Sprintf("offset %d", p.off-1))
			assert.Equal(t, p.BodyRoom() == nil, true, "no room after an error")
		})
	}
}

// TestPooledBody: a body buffer comes from the pool of the smallest
// power of two that holds it (at most bodyUpfront), and only such buffers
// go back.
func TestPooledBody(t *testing.T) {
	for _, tc := range []struct{ size, cap int }{
		{keepBodyMax + 1, 128 << 10},
		{128 << 10, 128 << 10},
		{128<<10 + 1, 256 << 10},
		{bodyUpfront, bodyUpfront},
		{bodyUpfront + 1, bodyUpfront},
	} {
		b := pooledBody(tc.size)
		assert.Equal(t, cap(b), tc.cap, "size %d", tc.size)
		assert.Equal(t, len(b), 0)
		releaseBody(b)
	}
	releaseBody(make([]byte, 0, 3<<20)) // not a pool's: dropped
	releaseBody(make([]byte, 0, keepBodyMax))
	releaseBody(nil)
}
