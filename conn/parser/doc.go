// Package parser reads the NATS client protocol as a server sees it on a
// client connection, and turns it into calls on a [Handler]. It behaves as
// nats-server v2.15.2 does for a CLIENT-kind connection; it imports only the
// standard library and does no I/O.
//
// # Invariants
//
//   - The Parser is a state machine over the read buffer. Op names are
//     matched a byte at a time; argument lines are scanned for their line
//     feed and bodies are skipped by length, never byte by byte.
//   - Splitting the stream differently across [Parser.Parse] calls — at any
//     byte, down to one byte per call — gives the same Handler calls with
//     the same arguments and the same error kind.
//   - When an op arrives whole within one buffer, every slice given to the
//     Handler points into that buffer and Parse allocates nothing. When it
//     is split, the Parser copies the control line into scratch space and
//     the body into a body buffer, both reused. A body above 64 KiB gets a
//     buffer of its own, dropped after delivery; above 1 MiB that buffer
//     grows as the body arrives rather than being allocated up front.
//   - Slices given to the Handler have len == cap and are valid only during
//     the call.
//   - Every error is final: once Parse has returned one, it returns the
//     same error until [Parser.Reset].
//   - Nothing about subjects, queues, sids or CONNECT JSON is validated;
//     arguments are only split on blanks.
//
// # Grammar, as nats-server accepts it
//
// Op names are case-insensitive. An op line ends at '\n'; if the
// arguments contain a '\r' after their first byte, the byte before the
// '\n' is dropped (so "\r\n" and bare "\n" both end a line). PUB, HPUB,
// SUB, UNSUB and -ERR need one space or tab after the name; CONNECT and
// INFO need none. Blanks after the name are skipped, and the next byte
// starts the arguments whatever it is. PING, PONG and +OK ignore anything
// up to their '\n'. A PUB/HPUB body of exactly the announced size must be
// followed by "\r\n"; a bare '\n' there is an error. An empty line is an
// unknown op.
//
// What a client connection may send that a client does not normally send:
//   - "+OK" is read and ignored.
//   - "INFO <json>" is read and ignored when the JSON is an object or null;
//     otherwise it is [BadArgs]. (nats-server also rejects objects whose
//     fields have the wrong JSON types; this package does not.)
//   - "-ERR <text>" ends the connection: [ClientErr], close ParseError,
//     nothing sent back.
//   - "MSG" (like "RMSG", "LMSG", "RS+", "LS+", "A+") is an unknown op.
//   - "HMSG <anything>" is read, must be followed by "\r\n" (an empty
//     body), and is dropped without a Handler call.
//
// # What the connection must do with each error
//
// Every *[ProtoError] closes the connection. ProtoError.SendErr is the
// text to send first as "-ERR '<text>'" ("" means send nothing):
//
//	Kind            -ERR sent                          close reason
//	UnknownOp       'Unknown Protocol Operation'       ProtocolViolation
//	BadArgs         none                               ProtocolViolation
//	MaxControlLine  'maximum control line exceeded'    MaxControlLineExceeded
//	MaxPayload      'Maximum Payload Violation'        MaxPayloadExceeded
//	ClientErr       none                               ParseError
//
// UnknownOp covers: a byte that starts no client op (including '\r', '\n',
// 'M', 'R', 'A', 'L'); a wrong letter in an op name; PUB, HPUB, SUB, UNSUB,
// HMSG or -ERR without a blank after the name; a body not followed by
// "\r\n" (that is, a body longer than announced).
//
// BadArgs covers: PUB without 2 or 3 arguments, HPUB without 3 or 4, SUB
// without 2 or 3, UNSUB without 1 or 2; a PUB/HPUB size or HPUB header
// size that is not 1–9 ASCII digits; an HPUB header size above its total
// size; an INFO that is not a JSON object or null. A bad UNSUB max is not
// an error (see [Handler]).
//
// MaxControlLine is judged on the arguments only (the bytes after the op
// name and its blanks, without the line end), when the line ends and at
// the end of every Parse call that leaves the line incomplete. It applies
// to every op that has arguments; PING, PONG and +OK are never checked.
//
// MaxPayload is judged on the announced total size (headers included) when
// the PUB/HPUB line is complete, before any of the body is read, after the
// argument checks above.
package parser
