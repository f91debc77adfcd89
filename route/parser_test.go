package route

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// recorder writes every handler call as one line.
type recorder struct{ calls []string }

func (r *recorder) onOp(kind opKind, arg []byte) error {
	r.calls = append(r.calls, fmt.Sprintf("%s %s", kind, arg))
	return nil
}

func (r *recorder) onMsg(m *msgArgs, payload []byte) error {
	q := make([]string, len(m.queues))
	for i, b := range m.queues {
		q[i] = string(b)
	}
	r.calls = append(r.calls, fmt.Sprintf("MSG acc=%s subj=%s reply=%s queues=%v hdr=%d size=%d body=%q",
		m.account, m.subject, m.reply, q, m.hdr, m.size, payload))
	return nil
}

func TestParser(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      errKind
	}{
		{name: "control ops", in: "PING\r\nPONG\r\n+OK\r\nping\npong extra\r\n",
			want: []string{"PING ", "PONG ", "+OK ", "PING ", "PONG "}},
		{name: "info and connect", in: "INFO {\"a\":1}\r\nCONNECT  {\"b\":2}\r\n",
			want: []string{`INFO {"a":1}`, `CONNECT {"b":2}`}},
		{name: "interest", in: "RS+ $G foo\r\nRS+ $G bar q 3\r\nrs- $G foo\r\n",
			want: []string{"RS+ $G foo", "RS+ $G bar q 3", "RS- $G foo"}},
		{name: "err", in: "-ERR 'boom'\r\n", want: []string{"-ERR 'boom'"}},
		{name: "rmsg plain", in: "RMSG $G foo 5\r\nhello\r\n",
			want: []string{`MSG acc=$G subj=foo reply= queues=[] hdr=-1 size=5 body="hello"`}},
		{name: "rmsg reply", in: "RMSG $G foo _INBOX.1 2\r\nhi\r\n",
			want: []string{`MSG acc=$G subj=foo reply=_INBOX.1 queues=[] hdr=-1 size=2 body="hi"`}},
		{name: "rmsg queues with reply", in: "RMSG $G foo + r.x q1 q2 2\r\nhi\r\n",
			want: []string{`MSG acc=$G subj=foo reply=r.x queues=[q1 q2] hdr=-1 size=2 body="hi"`}},
		{name: "rmsg queues no reply", in: "RMSG $G foo | q1 0\r\n\r\n",
			want: []string{`MSG acc=$G subj=foo reply= queues=[q1] hdr=-1 size=0 body=""`}},
		{name: "hmsg", in: "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
			want: []string{`MSG acc=$G subj=foo reply= queues=[] hdr=12 size=14 body="NATS/1.0\r\n\r\nhi"`}},
		{name: "hmsg queues", in: "HMSG $G foo | grp 12 12\r\nNATS/1.0\r\n\r\n\r\n",
			want: []string{`MSG acc=$G subj=foo reply= queues=[grp] hdr=12 size=12 body="NATS/1.0\r\n\r\n"`}},
		{name: "unknown op", in: "LS+ x $G foo\r\n", err: errUnknownOp},
		{name: "lmsg refused", in: "LMSG x $G foo 2\r\nhi\r\n", err: errUnknownOp},
		{name: "client op", in: "PUB foo 2\r\nhi\r\n", err: errUnknownOp},
		{name: "empty line", in: "\r\n", err: errUnknownOp},
		{name: "body too long", in: "RMSG $G foo 1\r\nhi\r\n", err: errUnknownOp},
		{name: "rmsg too few args", in: "RMSG $G 1\r\n", err: errBadArgs},
		{name: "rmsg bad size", in: "RMSG $G foo x\r\n", err: errBadArgs},
		{name: "rmsg bad indicator", in: "RMSG $G foo * r q 2\r\n", err: errBadArgs},
		{name: "hmsg header over size", in: "HMSG $G foo 5 3\r\n", err: errBadArgs},
		{name: "payload over max", in: "RMSG $G foo 2000\r\n", err: errMaxPayload},
		{name: "line over max", in: "INFO " + strings.Repeat("x", 200) + "\r\n", err: errMaxControlLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every split of the input into two reads gives the same calls.
			for cut := 0; cut <= len(tc.in); cut++ {
				p := newParser(128, 1000)
				rec := &recorder{}
				err := p.parse([]byte(tc.in[:cut]), rec)
				if err == nil {
					err = p.parse([]byte(tc.in[cut:]), rec)
				}
				if tc.err != 0 {
					var pe *protoError
					assert.Assert(t, errors.As(err, &pe), "cut %d: want error kind %d, got %v", cut, tc.err, err)
					assert.Equal(t, pe.kind, tc.err, "cut %d: %v", cut, err)
					// The error is sticky.
					assert.Equal(t, p.parse([]byte("PING\r\n"), rec), err)
					continue
				}
				assert.NilError(t, err, "cut %d", cut)
				assert.DeepEqual(t, rec.calls, tc.want)
			}
			// One byte per read.
			if tc.err == 0 {
				p := newParser(128, 1000)
				rec := &recorder{}
				for i := range len(tc.in) {
					assert.NilError(t, p.parse([]byte{tc.in[i]}, rec))
				}
				assert.DeepEqual(t, rec.calls, tc.want)
			}
		})
	}
}
