//go:build !linux

package conn

import (
	"errors"
	"syscall"
)

// inlineWrites is whether this platform has [writeNow]: every write goes
// through the writer goroutine here.
const inlineWrites = false

// writeNow is not used on this platform.
func writeNow(syscall.RawConn, [][]byte) (int64, error) {
	return 0, errors.New("inline writes are not supported on this platform")
}
