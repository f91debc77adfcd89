package parser

import (
	"fmt"
	"strconv"
)

// Kind classifies a [ProtoError]. Each kind fixes what the connection must
// send and why it closes; see the table in the package documentation.
type Kind uint8

const (
	// UnknownOp: an unknown op, a blank line, an op name not followed by
	// what it needs, or a PUB/HPUB body not followed by CRLF. Send
	// -ERR 'Unknown Protocol Operation', close ProtocolViolation.
	UnknownOp Kind = iota + 1
	// BadArgs: an op whose arguments are malformed. Nothing is sent to a
	// client connection; close ProtocolViolation.
	BadArgs
	// MaxControlLine: an op's arguments are longer than max_control_line.
	// Send -ERR 'maximum control line exceeded', close MaxControlLineExceeded.
	MaxControlLine
	// MaxPayload: a PUB/HPUB announces more than max_payload bytes.
	// Send -ERR 'Maximum Payload Violation', close MaxPayloadExceeded.
	MaxPayload
	// ClientErr: the client sent "-ERR <text>". Nothing is sent; close
	// ParseError. Detail holds the client's text.
	ClientErr
)

var kindNames = [...]string{
	UnknownOp:      "UnknownOp",
	BadArgs:        "BadArgs",
	MaxControlLine: "MaxControlLine",
	MaxPayload:     "MaxPayload",
	ClientErr:      "ClientErr",
}

// The -ERR texts nats-server sends for each kind; empty when it sends none.
var kindSendErr = [...]string{
	UnknownOp:      "Unknown Protocol Operation",
	MaxControlLine: "maximum control line exceeded",
	MaxPayload:     "Maximum Payload Violation",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// SendErr is the text of the -ERR a connection sends to the client before
// closing for an error of this kind, or "" when it sends nothing.
func (k Kind) SendErr() string {
	if int(k) < len(kindSendErr) {
		return kindSendErr[k]
	}
	return ""
}

// ProtoError is a violation of the client protocol found by [Parser.Parse].
// Every ProtoError is fatal to the connection.
type ProtoError struct {
	Kind Kind
	// Detail says what was wrong, for logs. It names the stream offset
	// (bytes since [New] or [Parser.Reset]) where that is meaningful.
	Detail string
	// SendErr is the text the connection sends as "-ERR '<SendErr>'" before
	// closing, or "" when nothing is sent. It equals Kind.SendErr().
	SendErr string
}

func (e *ProtoError) Error() string {
	return "nats protocol: " + e.Kind.String() + ": " + e.Detail
}

// Is makes errors.Is(err, &ProtoError{Kind: k}) true for any ProtoError of
// kind k; a target with a Detail must match it too.
func (e *ProtoError) Is(target error) bool {
	t, ok := target.(*ProtoError)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && (t.Detail == "" || t.Detail == e.Detail)
}

func protoErr(k Kind, format string, args ...any) *ProtoError {
	return &ProtoError{Kind: k, Detail: fmt.Sprintf(format, args...), SendErr: k.SendErr()}
}

// snippetMax bounds how much of a line an error detail quotes.
const snippetMax = 64

func snippet(b []byte) string {
	if len(b) > snippetMax {
		return strconv.Quote(string(b[:snippetMax])) + "..."
	}
	return strconv.Quote(string(b))
}
