package lifecycle

import (
	"fmt"
	"testing"

	"gotest.tools/v3/assert"
)

// Every byte but space, tab, CR and LF (which separate protocol arguments)
// may be part of a subject: nats-server v2.15.2 subscribes to and delivers
// "a\fb", "a\x00b", "a\x7fb", "a\xffb" and "a\vb" (checked against the
// binary), refusing only empty tokens and a '>' that is not last.
func TestProtocolSubjectBytes(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	c.send("CONNECT {\"verbose\":true,\"pedantic\":true}\r\n")
	assert.Equal(t, c.line(), "+OK")
	for i, subj := range []string{"a\fb", "\f", "a.\f.b", "a\vb", "a\x00b", "a\x7fb", "a\xffb"} {
		t.Run(fmt.Sprintf("%q", subj), func(t *testing.T) {
			c.send(fmt.Sprintf("SUB %s %d\r\nPUB %s 2\r\nhi\r\nUNSUB %d\r\nPING\r\n", subj, i, subj, i))
			for _, want := range []string{"+OK", "+OK", fmt.Sprintf("MSG %s %d 2", subj, i), "hi", "+OK", "PONG"} {
				assert.Equal(t, c.line(), want)
			}
		})
	}
}
