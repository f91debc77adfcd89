package parser

// Handler receives each complete client operation, in stream order. The
// slices it is given are valid only during the call: they point into the
// buffer passed to [Parser.Parse] or into the Parser's own scratch space,
// and have len == cap so that appending to them never writes into either.
//
// A non-nil error stops [Parser.Parse], which returns it unchanged; the
// Parser is then failed until [Parser.Reset].
type Handler interface {
	// OnConnect receives the raw bytes after "CONNECT" and any blanks,
	// without the line end. They are not checked; normally JSON.
	OnConnect(arg []byte) error
	// OnPing is called for "PING"; anything between PING and the line
	// feed is ignored.
	OnPing() error
	// OnPong is called for "PONG", as OnPing.
	OnPong() error
	// OnSub is called for "SUB <subject> [queue] <sid>"; queue is nil when
	// absent. Nothing about the subject is validated.
	OnSub(subject, queue, sid []byte) error
	// OnUnsub is called for "UNSUB <sid> [max]". max is 0 when absent and
	// also when it is not a number of one to nine digits, which nats-server
	// likewise treats as "unsubscribe now".
	OnUnsub(sid []byte, max int) error
	// OnPub is called once the whole body of a PUB or HPUB has arrived.
	// hdrLen is -1 for PUB; for HPUB, msg starts with hdrLen bytes of
	// headers (0 <= hdrLen <= len(msg)). reply is nil when absent. msg
	// excludes the CRLF that ends the body.
	OnPub(subject, reply []byte, hdrLen int, msg []byte) error
}
