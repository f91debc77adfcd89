package conn

import (
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
)

// tracing reports whether protocol lines are traced (-V): one atomic load,
// so the hot path pays nothing more when tracing is off.
func (c *Conn) tracing() bool {
	return c.sh.Log != nil && c.sh.Log.IsLevelEnabled(logrus.TraceLevel)
}

// traceIn logs an operation received from the client, as nats-server
// does: `<<- [PUB foo 5]`. Nil args are left out.
func (c *Conn) traceIn(op string, args ...[]byte) {
	var b strings.Builder
	b.WriteString(op)
	for _, a := range args {
		if a != nil {
			b.WriteByte(' ')
			b.Write(a)
		}
	}
	c.sh.Log.Tracef("%s - cid:%d - \"<<- [%s]\"", c.hostPort(), c.cid, b.String())
}

// traceOut logs a protocol line sent to the client: `->> [MSG foo 1 5]`.
func (c *Conn) traceOut(line string) {
	c.sh.Log.Tracef("%s - cid:%d - \"->> [%s]\"", c.hostPort(), c.cid, line)
}

// tracePayload logs a message payload (headers included), truncated at
// max_traced_msg_len; empty payloads are not logged.
func (c *Conn) tracePayload(prefix string, msg []byte) {
	if len(msg) == 0 {
		return
	}
	if max := c.cfg.MaxTracedMsgLen; max > 0 && len(msg) > max {
		q := strconv.Quote(string(msg[:max]))
		c.sh.Log.Tracef("%s - cid:%d - \"%s MSG_PAYLOAD: [\\\"%s...\\\"]\"", c.hostPort(), c.cid, prefix, q[1:len(q)-1])
		return
	}
	c.sh.Log.Tracef("%s - cid:%d - \"%s MSG_PAYLOAD: [%s]\"", c.hostPort(), c.cid, prefix, strconv.Quote(string(msg)))
}
