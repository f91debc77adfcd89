package parser

import (
	"bytes"
	"encoding/json"
)

// keepBodyMax is the largest body buffer a Parser keeps for reuse after a
// body that straddled reads; larger ones come from shared pools and go
// back to them once delivered (see body.go).
const keepBodyMax = 64 << 10

// bodyUpfront is the most a Parser allocates for a straddling body before
// its bytes arrive; a larger body's buffer grows as they do, so that a
// client announcing a large size cannot make the server allocate it for
// free.
const bodyUpfront = 1 << 20

// minBodyBuf is the smallest body buffer a Parser allocates, so that small
// bodies of growing size do not each cost an allocation.
const minBodyBuf = 512

// Parser turns the byte stream of one client connection into [Handler]
// calls. The zero value is not usable; call [New]. A Parser is not safe for
// concurrent use: it belongs to the connection's read loop.
type Parser struct {
	state state
	// cr records a '\r' anywhere in the current arguments after their
	// first byte; the last byte before the line feed is then dropped.
	cr bool
	// held is true while the current op's control line lives in line
	// instead of the caller's buffer.
	held bool
	line []byte // control line held across reads (scratch, reused)
	body []byte // body held across reads; len is what has arrived
	keep []byte // body buffer kept for reuse, at most keepBodyMax
	pa   pubArgs
	tk   tokens

	maxControlLine int // negative: no limit
	maxPayload     int // negative: no limit

	off int64 // stream offset of the current buffer's first byte
	err error // sticky: the error that failed the Parser
}

// New returns a Parser enforcing the given limits; see [Parser.SetLimits].
func New(maxControlLine, maxPayload int) *Parser {
	p := &Parser{}
	p.SetLimits(maxControlLine, maxPayload)
	return p
}

// SetLimits changes max_control_line and max_payload, for example after a
// configuration reload. A negative value means no limit. The new limits
// apply from the next check: a control line is checked when its line feed
// arrives and at the end of each Parse call that leaves it incomplete; a
// PUB/HPUB size is checked when its control line is complete.
func (p *Parser) SetLimits(maxControlLine, maxPayload int) {
	p.maxControlLine, p.maxPayload = maxControlLine, maxPayload
}

// Reset forgets any partial op and any earlier error, so that the Parser
// can serve a new connection. Limits and scratch buffers are kept.
func (p *Parser) Reset() {
	p.state, p.cr, p.held = opStart, false, false
	p.line, p.body = p.line[:0], nil
	p.pa = pubArgs{}
	p.off, p.err = 0, nil
}

// Parse consumes buf, the next bytes read from the connection, calling h
// for every op completed by them. An op may be split across calls at any
// byte; the Parser copies what it must keep. Parse does not keep buf.
//
// It returns nil, the first error returned by h (unchanged), or a
// *[ProtoError]. After an error the rest of buf is not examined and every
// later call returns the same error without calling h, until [Parser.Reset].
func (p *Parser) Parse(buf []byte, h Handler) error {
	if p.err != nil {
		return p.err
	}
	err := p.parse(buf, h)
	p.off += int64(len(buf))
	if err != nil {
		p.err = err
	}
	return err
}

func (p *Parser) parse(buf []byte, h Handler) error {
	s := p.state
	as := 0 // start of the current arguments in buf, while !p.held
	for i := 0; i < len(buf); i++ {
		b := buf[i]
		switch s {
		case opStart:
			switch b {
			case 'P', 'p':
				s = opP
			case 'H', 'h':
				s = opH
			case 'S', 's':
				s = opS
			case 'U', 'u':
				s = opU
			case 'C', 'c':
				s = opC
			case 'I', 'i':
				s = opI
			case '+':
				s = opPlus
			case '-':
				s = opMinus
			default:
				return p.unknown(s, i, b)
			}

		case opP:
			switch b | 0x20 {
			case 'u':
				s = opPU
			case 'i':
				s = opPI
			case 'o':
				s = opPO
			default:
				return p.unknown(s, i, b)
			}

		case opH:
			switch b | 0x20 {
			case 'p':
				s = opHP
			case 'm':
				s = opHM
			default:
				return p.unknown(s, i, b)
			}

		case opMinusERR, opHPUB, opHMSG, opPUB, opSUB, opUNSUB:
			if b != ' ' && b != '\t' {
				return p.unknown(s, i, b)
			}
			s = afterBlank[s]

		case opMinusERRSpc, opCONNECT, opHPUBSpc, opHMSGSpc, opPUBSpc, opSUBSpc, opUNSUBSpc, opINFO:
			if b == ' ' || b == '\t' {
				continue
			}
			// The first byte of the arguments is taken as it is, even a
			// '\r' or '\n', as nats-server does.
			s, as, p.cr = argOf[s], i, false

		case minusErrArg, connectArg, hpubArg, hmsgArg, pubArg, subArg, unsubArg, infoArg:
			e := bytes.IndexByte(buf[i:], '\n')
			if e < 0 {
				p.cr = p.cr || bytes.IndexByte(buf[i:], '\r') >= 0
				if p.held {
					p.line = append(p.line, buf[i:]...)
				}
				i = len(buf)
				continue
			}
			e += i
			if !p.cr {
				p.cr = e > i && buf[e-1] == '\r' || bytes.IndexByte(buf[i:e], '\r') >= 0
			}
			var arg []byte
			if p.held {
				p.line = append(p.line, buf[i:e]...)
				arg = p.line
			} else {
				arg = buf[as:e]
			}
			if p.cr {
				arg = arg[:len(arg)-1]
			}
			if p.maxControlLine >= 0 && len(arg) > p.maxControlLine {
				return p.overControlLine(s, arg)
			}
			i = e
			switch s {
			case pubArg, hpubArg:
				if err := p.pa.parsePub(arg, s == hpubArg, p.maxPayload, &p.tk); err != nil {
					return err
				}
				start := e + 1
				end := start + p.pa.size
				if end+1 < len(buf) {
					// The whole body and its CRLF are here: deliver
					// straight from buf.
					if buf[end] != '\r' {
						return p.badBodyEnd(msgEndR, end, buf[end])
					}
					if buf[end+1] != '\n' {
						return p.badBodyEnd(msgEndN, end+1, buf[end+1])
					}
					p.held, p.line, s = false, p.line[:0], opStart
					i = end + 1
					if err := h.OnPub(p.pa.subject.in(arg), reply(p.pa, arg), p.pa.hdr, buf[start:end:end]); err != nil {
						return err
					}
					continue
				}
				// The body straddles reads: hold the control line and
				// collect the body.
				if !p.held {
					p.line = append(p.line[:0], arg...)
					p.held = true
				}
				p.body = p.bodyBuf(p.pa.size)
				s = msgPayload
				if p.pa.size == 0 {
					s = msgEndR
				}
				continue
			case hmsgArg:
				// A client's HMSG is not an op nats-server acts on: it
				// reads the line, then an empty body, and delivers
				// nothing.
				p.pa = pubArgs{hdr: 0, discard: true}
				s = msgEndR
				continue
			}
			op := s
			p.held, s = false, opStart
			err := p.control(h, op, arg)
			p.line = p.line[:0]
			if err != nil {
				return err
			}

		case msgPayload:
			n := min(p.pa.size-len(p.body), len(buf)-i)
			if n > cap(p.body)-len(p.body) {
				p.growBody(n)
			}
			p.body = append(p.body, buf[i:i+n]...)
			i += n - 1
			if len(p.body) == p.pa.size {
				s = msgEndR
			}

		case msgEndR:
			if b != '\r' {
				return p.badBodyEnd(s, i, b)
			}
			s = msgEndN

		case msgEndN:
			if b != '\n' {
				return p.badBodyEnd(s, i, b)
			}
			s = opStart
			if err := p.deliverHeld(h); err != nil {
				return err
			}

		case opPING, opPONG, opPlusOK:
			// Everything up to the line feed is ignored.
			e := bytes.IndexByte(buf[i:], '\n')
			if e < 0 {
				i = len(buf)
				continue
			}
			i += e
			var err error
			switch s {
			case opPING:
				err = h.OnPing()
			case opPONG:
				err = h.OnPong()
			}
			s = opStart
			if err != nil {
				return err
			}

		default:
			l := spelling[s]
			if l.want == 0 || b|0x20 != l.want {
				return p.unknown(s, i, b)
			}
			s = l.next
		}
	}
	p.state = s
	if s.isArg() {
		if !p.held {
			p.line = append(p.line[:0], buf[as:]...)
			p.held = true
		}
		n := len(p.line)
		if p.cr {
			n--
		}
		if p.maxControlLine >= 0 && n > p.maxControlLine {
			return p.overControlLine(s, p.line[:n])
		}
	}
	return nil
}

// control completes an op other than PUB, HPUB and HMSG, whose arguments
// are arg and whose argument state was s.
func (p *Parser) control(h Handler, s state, arg []byte) error {
	switch s {
	case connectArg:
		return h.OnConnect(arg[:len(arg):len(arg)])
	case subArg:
		tk := &p.tk
		tk.split(arg, &subBlank)
		switch tk.n {
		case 2:
			return h.OnSub(tk.t[0].in(arg), nil, tk.t[1].in(arg))
		case 3:
			return h.OnSub(tk.t[0].in(arg), tk.t[1].in(arg), tk.t[2].in(arg))
		}
		return protoErr(BadArgs, "SUB: want 2 or 3 arguments, got %d: %s", tk.n, snippet(arg))
	case unsubArg:
		tk := &p.tk
		tk.split(arg, &subBlank)
		switch tk.n {
		case 1:
			return h.OnUnsub(tk.t[0].in(arg), 0)
		case 2:
			return h.OnUnsub(tk.t[0].in(arg), max(parseSize(tk.t[1].in(arg)), 0))
		}
		return protoErr(BadArgs, "UNSUB: want 1 or 2 arguments, got %d: %s", tk.n, snippet(arg))
	case infoArg:
		// nats-server decodes a client's INFO and then ignores it.
		if !infoDecodes(arg) {
			return protoErr(BadArgs, "INFO: not a JSON object: %s", snippet(arg))
		}
		return nil
	case minusErrArg:
		return protoErr(ClientErr, "client sent -ERR %s", snippet(arg))
	}
	panic("parser: control called in state " + s.String())
}

// infoDecodes reports whether arg is JSON that decodes into a struct: an
// object or null.
func infoDecodes(arg []byte) bool {
	if !json.Valid(arg) {
		return false
	}
	v := bytes.TrimLeft(arg, " \t\r\n")
	return v[0] == '{' || v[0] == 'n'
}

// deliverHeld hands over a PUB or HPUB whose control line is in p.line and
// whose body is in p.body, then releases both.
func (p *Parser) deliverHeld(h Handler) error {
	var err error
	if !p.pa.discard {
		err = h.OnPub(p.pa.subject.in(p.line), reply(p.pa, p.line), p.pa.hdr, p.body[:len(p.body):len(p.body)])
	}
	releaseBody(p.body)
	p.held, p.line, p.body, p.pa = false, p.line[:0], nil, pubArgs{}
	return err
}

func reply(pa pubArgs, arg []byte) []byte {
	if pa.reply.end == 0 {
		return nil
	}
	return pa.reply.in(arg)
}

// bodyBuf returns an empty buffer with room for a body of size bytes,
// reusing the kept one when it is large enough.
func (p *Parser) bodyBuf(size int) []byte {
	if size <= cap(p.keep) {
		return p.keep[:0]
	}
	if size > keepBodyMax {
		return pooledBody(size)
	}
	c := max(minBodyBuf, cap(p.keep))
	for c < size {
		c *= 2
	}
	p.keep = make([]byte, 0, min(c, keepBodyMax))
	return p.keep
}

// growBody makes room for n more body bytes, at least doubling the buffer
// but never beyond the announced size.
func (p *Parser) growBody(n int) {
	c := min(p.pa.size, max(2*cap(p.body), len(p.body)+n))
	b := make([]byte, len(p.body), c)
	copy(b, p.body)
	releaseBody(p.body)
	p.body = b
}

func (p *Parser) unknown(s state, i int, b byte) error {
	return protoErr(UnknownOp, "unexpected %q in state %s at offset %d", b, s, p.off+int64(i))
}

func (p *Parser) badBodyEnd(s state, i int, b byte) error {
	return protoErr(UnknownOp, "message body not followed by CRLF: %q in state %s at offset %d", b, s, p.off+int64(i))
}

func (p *Parser) overControlLine(s state, arg []byte) error {
	return protoErr(MaxControlLine, "%s arguments of %d bytes (or more) exceed max_control_line %d: %s",
		s.opName(), len(arg), p.maxControlLine, snippet(arg))
}
