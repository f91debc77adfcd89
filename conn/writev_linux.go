//go:build linux

package conn

import (
	"sync"
	"syscall"
	"unsafe"
)

// inlineWrites is whether this platform has [writeNow].
const inlineWrites = true

// maxInlineIov is the most chunks one inline write takes; the rest stays
// queued.
const maxInlineIov = 64

// inlineWrite is the state of one inline write, pooled so that the write
// does not allocate: its function is bound once.
type inlineWrite struct {
	iov [maxInlineIov]syscall.Iovec
	n   int // iovecs in use
	// What the writev did: bytes written, and its error (EAGAIN is none).
	wrote int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

var inlinePool = sync.Pool{New: func() any {
	w := &inlineWrite{}
	w.fn = w.do
	return w
}}

// do is the RawConn callback: one writev, retried only when interrupted.
// It always reports done, so the write never waits for the socket.
func (w *inlineWrite) do(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(w.n))
		switch e {
		case 0:
			w.wrote = int(r)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
		default:
			w.errno = e
		}
		return true
	}
}

// writeNow writes as much of the chunks q as the socket takes at once,
// without waiting, and returns how many bytes that was. A socket that
// takes nothing now is not an error.
func writeNow(rc syscall.RawConn, q [][]byte) (int64, error) {
	w := inlinePool.Get().(*inlineWrite)
	w.n, w.wrote, w.errno = 0, 0, 0
	for _, b := range q {
		if w.n == len(w.iov) {
			break
		}
		if len(b) > 0 {
			w.iov[w.n].Base = &b[0]
			w.iov[w.n].SetLen(len(b))
			w.n++
		}
	}
	var err error
	if w.n > 0 {
		err = rc.Write(w.fn)
	}
	wrote, errno := w.wrote, w.errno
	clear(w.iov[:w.n])
	inlinePool.Put(w)
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return int64(wrote), nil
}
