package route

import (
	"bytes"
	"fmt"
)

// opKind is one operation of the route protocol.
type opKind uint8

const (
	opInfo opKind = iota
	opConnect
	opPing
	opPong
	opOK
	opErr
	opRSub   // RS+
	opRUnsub // RS-
	opRMsg   // RMSG (and HMSG: a message op with headers)
)

var opNames = [...]string{
	opInfo: "INFO", opConnect: "CONNECT", opPing: "PING", opPong: "PONG", opOK: "+OK",
	opErr: "-ERR", opRSub: "RS+", opRUnsub: "RS-", opRMsg: "RMSG",
}

func (k opKind) String() string { return opNames[k] }

// msgArgs is what an RMSG or HMSG control line says. The slices point into
// the parser's input or scratch and are valid only during the handler call.
type msgArgs struct {
	account, subject, reply []byte
	// queues lists the queue groups the sender chose this server for; nil
	// means plain subscribers only.
	queues [][]byte
	// hdr is the header size of an HMSG, -1 for RMSG.
	hdr  int
	size int
}

// opHandler receives each complete route operation in stream order. arg is
// the rest of the control line after the op name and its blanks (without
// the line end), valid only during the call. A non-nil error stops the
// parser, which returns it.
type opHandler interface {
	onOp(kind opKind, arg []byte) error
	onMsg(m *msgArgs, payload []byte) error
}

// errKind classifies a protocol error found by the parser.
type errKind uint8

const (
	errUnknownOp errKind = iota + 1
	errBadArgs
	errMaxControlLine
	errMaxPayload
)

// protoError is a route protocol violation found by the parser.
type protoError struct {
	kind errKind
	msg  string
}

func (e *protoError) Error() string { return e.msg }

// parser reads the route protocol as nats-server speaks it to a peer that
// announced neither pooling nor leaf-origin support: INFO, CONNECT, PING,
// PONG, +OK, -ERR, RS+, RS-, RMSG and HMSG. Op names are case-insensitive;
// a line ends at '\n', and a '\r' before it is dropped. A message body of
// exactly the announced size must be followed by "\r\n". LS+, LS- and LMSG,
// which nats-server sends only to peers that announced lnoc/ln, and every
// other op are unknown. A parser belongs to one route's reader.
type parser struct {
	maxLine    int
	maxPayload int

	partial []byte // a control line split across reads
	need    int    // while > 0: bytes of body plus CRLF awaited
	body    []byte // the body gathered so far
	line    []byte // the control line of the awaited body (scratch)
	msg     msgArgs
	tok     [][]byte // scratch for splitting arguments
	err     error    // sticky
}

func newParser(maxLine, maxPayload int) *parser {
	return &parser{maxLine: maxLine, maxPayload: maxPayload}
}

// parse consumes data, calling h for every operation completed by it. An
// operation may be split across calls at any byte. After an error every
// later call returns the same error.
func (p *parser) parse(data []byte, h opHandler) error {
	if p.err != nil {
		return p.err
	}
	for len(data) > 0 {
		if p.need > 0 {
			take := min(p.need-len(p.body), len(data))
			p.body = append(p.body, data[:take]...)
			data = data[take:]
			if len(p.body) < p.need {
				return nil
			}
			err := p.deliver(p.body, h)
			p.need = 0
			if cap(p.body) > 64<<10 {
				p.body = nil
			} else {
				p.body = p.body[:0]
			}
			if err != nil {
				return p.fail(err)
			}
			continue
		}
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			p.partial = append(p.partial, data...)
			if len(p.partial) > p.maxLine+16 {
				return p.fail(&protoError{errMaxControlLine, "maximum control line exceeded"})
			}
			return nil
		}
		line := data[:nl]
		if len(p.partial) > 0 {
			p.partial = append(p.partial, line...)
			line = p.partial
		}
		data = data[nl+1:]
		rest, err := p.control(line, data, h)
		p.partial = p.partial[:0]
		if err != nil {
			return p.fail(err)
		}
		data = rest
	}
	return nil
}

func (p *parser) fail(err error) error {
	p.err = err
	return err
}

// control handles one control line; data is what follows its line feed.
// It returns what is left of data.
func (p *parser) control(line, data []byte, h opHandler) ([]byte, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	name, arg := splitOp(line)
	if len(arg) > p.maxLine {
		return nil, &protoError{errMaxControlLine, "maximum control line exceeded"}
	}
	switch {
	case equalFold(name, "RMSG"), equalFold(name, "HMSG"):
		if err := p.msgArgs(arg, name[0] == 'H' || name[0] == 'h'); err != nil {
			return nil, err
		}
		need := p.msg.size + 2
		if len(data) >= need {
			if err := p.deliver(data[:need], h); err != nil {
				return nil, err
			}
			return data[need:], nil
		}
		// The body straddles reads: keep the control line in scratch and
		// split it again there, so the arguments outlive this buffer.
		p.line = append(p.line[:0], arg...)
		if err := p.msgArgs(p.line, p.msg.hdr >= 0); err != nil {
			return nil, err
		}
		p.need = need
		p.body = append(p.body[:0], data...)
		return nil, nil
	case hasPrefixFold(line, "PING"):
		return data, h.onOp(opPing, nil)
	case hasPrefixFold(line, "PONG"):
		return data, h.onOp(opPong, nil)
	case hasPrefixFold(line, "+OK"):
		return data, h.onOp(opOK, nil)
	case equalFold(name, "INFO"):
		return data, h.onOp(opInfo, arg)
	case equalFold(name, "CONNECT"):
		return data, h.onOp(opConnect, arg)
	case equalFold(name, "-ERR"):
		return data, h.onOp(opErr, arg)
	case equalFold(name, "RS+"):
		return data, h.onOp(opRSub, arg)
	case equalFold(name, "RS-"):
		return data, h.onOp(opRUnsub, arg)
	}
	return nil, &protoError{errUnknownOp, fmt.Sprintf("unknown route protocol operation %q", snippet(line))}
}

// deliver checks the CRLF after a body and hands the body to h.
func (p *parser) deliver(body []byte, h opHandler) error {
	n := len(body)
	if body[n-2] != '\r' || body[n-1] != '\n' {
		return &protoError{errUnknownOp, "message body not followed by CRLF"}
	}
	return h.onMsg(&p.msg, body[:n-2])
}

// msgArgs splits the arguments of RMSG or HMSG into p.msg, with
// nats-server's grammar: account and subject, then a reply, or a reply
// indicator ("+ reply" or "|") followed by queue names, then the header
// size (HMSG) and the total size.
func (p *parser) msgArgs(arg []byte, headers bool) error {
	p.tok = splitArgs(arg, p.tok[:0])
	args := p.tok
	m := &p.msg
	*m = msgArgs{hdr: -1}
	sizes := 1
	if headers {
		sizes = 2
	}
	n := len(args)
	if n < 2+sizes {
		return &protoError{errBadArgs, fmt.Sprintf("route message: bad arguments %q", snippet(arg))}
	}
	m.account, m.subject = args[0], args[1]
	switch n {
	case 2 + sizes:
	case 3 + sizes:
		m.reply = args[2]
	default:
		if len(args[2]) != 1 {
			return &protoError{errBadArgs, fmt.Sprintf("route message: bad or missing reply indicator %q", args[2])}
		}
		switch args[2][0] {
		case '+':
			m.reply = args[3]
			m.queues = args[4 : n-sizes]
		case '|':
			m.queues = args[3 : n-sizes]
		default:
			return &protoError{errBadArgs, fmt.Sprintf("route message: bad or missing reply indicator %q", args[2])}
		}
	}
	m.size = parseSize(args[n-1])
	if headers {
		m.hdr = parseSize(args[n-2])
		if m.hdr < 0 || m.hdr > m.size {
			return &protoError{errBadArgs, fmt.Sprintf("route message: bad header size %q", snippet(arg))}
		}
	}
	if m.size < 0 {
		return &protoError{errBadArgs, fmt.Sprintf("route message: bad or missing size %q", snippet(arg))}
	}
	if p.maxPayload > 0 && m.size > p.maxPayload {
		return &protoError{errMaxPayload, "maximum payload exceeded"}
	}
	return nil
}

// splitOp splits a control line into its op name and its arguments (after
// the blanks that follow the name).
func splitOp(line []byte) (name, arg []byte) {
	i := bytes.IndexAny(line, " \t")
	if i < 0 {
		return line, nil
	}
	name, arg = line[:i], line[i:]
	for len(arg) > 0 && (arg[0] == ' ' || arg[0] == '\t') {
		arg = arg[1:]
	}
	return name, arg
}

// splitArgs appends the blank-separated tokens of arg to out.
func splitArgs(arg []byte, out [][]byte) [][]byte {
	start := -1
	for i, b := range arg {
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
			if start >= 0 {
				out = append(out, arg[start:i:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, arg[start:len(arg):len(arg)])
	}
	return out
}

// parseSize reads one to nine ASCII digits; anything else is -1.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > 9 {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func equalFold(b []byte, s string) bool { return len(b) == len(s) && hasPrefixFold(b, s) }

// hasPrefixFold reports whether b starts with the upper-case ASCII s,
// ignoring case.
func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// snippet shortens a line for an error message.
func snippet(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
