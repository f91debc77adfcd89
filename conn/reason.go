package conn

// ClosedState is the reason a connection was closed. Values and texts match
// nats-server's, so /connz and logs read the same. The zero value means "not
// closed".
type ClosedState int

// The close reasons, in nats-server's order and numbering (starting at 1).
const (
	ClientClosed ClosedState = iota + 1
	AuthenticationTimeout
	AuthenticationViolation
	TLSHandshakeError
	SlowConsumerPendingBytes
	SlowConsumerWriteDeadline
	WriteError
	ReadError
	ParseError
	StaleConnection
	ProtocolViolation
	BadClientProtocolVersion
	WrongPort
	MaxAccountConnectionsExceeded
	MaxConnectionsExceeded
	MaxPayloadExceeded
	MaxControlLineExceeded
	MaxSubscriptionsExceeded
	DuplicateRoute
	RouteRemoved
	ServerShutdown
	AuthenticationExpired
	WrongGateway
	MissingAccount
	Revocation
	InternalClient
	MsgHeaderViolation
	NoRespondersRequiresHeaders
	ClusterNameConflict
	DuplicateRemoteLeafnodeConnection
	DuplicateClientID
	DuplicateServerName
	MinimumVersionRequired
	ClusterNamesIdentical
	Kicked
	ProxyNotTrusted
	ProxyRequired
)

// NumClosedStates is the number of defined close reasons; they are
// 1..NumClosedStates.
const NumClosedStates = int(ProxyRequired)

var reasonTexts = [...]string{
	ClientClosed:                      "Client Closed",
	AuthenticationTimeout:             "Authentication Timeout",
	AuthenticationViolation:           "Authentication Failure",
	TLSHandshakeError:                 "TLS Handshake Failure",
	SlowConsumerPendingBytes:          "Slow Consumer (Pending Bytes)",
	SlowConsumerWriteDeadline:         "Slow Consumer (Write Deadline)",
	WriteError:                        "Write Error",
	ReadError:                         "Read Error",
	ParseError:                        "Parse Error",
	StaleConnection:                   "Stale Connection",
	ProtocolViolation:                 "Protocol Violation",
	BadClientProtocolVersion:          "Bad Client Protocol Version",
	WrongPort:                         "Incorrect Port",
	MaxAccountConnectionsExceeded:     "Maximum Account Connections Exceeded",
	MaxConnectionsExceeded:            "Maximum Connections Exceeded",
	MaxPayloadExceeded:                "Maximum Message Payload Exceeded",
	MaxControlLineExceeded:            "Maximum Control Line Exceeded",
	MaxSubscriptionsExceeded:          "Maximum Subscriptions Exceeded",
	DuplicateRoute:                    "Duplicate Route",
	RouteRemoved:                      "Route Removed",
	ServerShutdown:                    "Server Shutdown",
	AuthenticationExpired:             "Authentication Expired",
	WrongGateway:                      "Wrong Gateway",
	MissingAccount:                    "Missing Account",
	Revocation:                        "Credentials Revoked",
	InternalClient:                    "Internal Client",
	MsgHeaderViolation:                "Message Header Violation",
	NoRespondersRequiresHeaders:       "No Responders Requires Headers",
	ClusterNameConflict:               "Cluster Name Conflict",
	DuplicateRemoteLeafnodeConnection: "Duplicate Remote LeafNode Connection",
	DuplicateClientID:                 "Duplicate Client ID",
	DuplicateServerName:               "Duplicate Server Name",
	MinimumVersionRequired:            "Minimum Version Required",
	ClusterNamesIdentical:             "Cluster Names Identical",
	Kicked:                            "Kicked",
	ProxyNotTrusted:                   "Proxy Not Trusted",
	ProxyRequired:                     "Proxy Required",
}

var reasonNames = [...]string{
	ClientClosed:                      "ClientClosed",
	AuthenticationTimeout:             "AuthenticationTimeout",
	AuthenticationViolation:           "AuthenticationViolation",
	TLSHandshakeError:                 "TLSHandshakeError",
	SlowConsumerPendingBytes:          "SlowConsumerPendingBytes",
	SlowConsumerWriteDeadline:         "SlowConsumerWriteDeadline",
	WriteError:                        "WriteError",
	ReadError:                         "ReadError",
	ParseError:                        "ParseError",
	StaleConnection:                   "StaleConnection",
	ProtocolViolation:                 "ProtocolViolation",
	BadClientProtocolVersion:          "BadClientProtocolVersion",
	WrongPort:                         "WrongPort",
	MaxAccountConnectionsExceeded:     "MaxAccountConnectionsExceeded",
	MaxConnectionsExceeded:            "MaxConnectionsExceeded",
	MaxPayloadExceeded:                "MaxPayloadExceeded",
	MaxControlLineExceeded:            "MaxControlLineExceeded",
	MaxSubscriptionsExceeded:          "MaxSubscriptionsExceeded",
	DuplicateRoute:                    "DuplicateRoute",
	RouteRemoved:                      "RouteRemoved",
	ServerShutdown:                    "ServerShutdown",
	AuthenticationExpired:             "AuthenticationExpired",
	WrongGateway:                      "WrongGateway",
	MissingAccount:                    "MissingAccount",
	Revocation:                        "Revocation",
	InternalClient:                    "InternalClient",
	MsgHeaderViolation:                "MsgHeaderViolation",
	NoRespondersRequiresHeaders:       "NoRespondersRequiresHeaders",
	ClusterNameConflict:               "ClusterNameConflict",
	DuplicateRemoteLeafnodeConnection: "DuplicateRemoteLeafnodeConnection",
	DuplicateClientID:                 "DuplicateClientID",
	DuplicateServerName:               "DuplicateServerName",
	MinimumVersionRequired:            "MinimumVersionRequired",
	ClusterNamesIdentical:             "ClusterNamesIdentical",
	Kicked:                            "Kicked",
	ProxyNotTrusted:                   "ProxyNotTrusted",
	ProxyRequired:                     "ProxyRequired",
}

// String returns the reason's display text as nats-server shows it in
// /connz, or "Unknown State" for a value outside the defined range.
func (r ClosedState) String() string {
	if r >= ClientClosed && int(r) <= NumClosedStates {
		return reasonTexts[r]
	}
	return "Unknown State"
}

// Name returns the Go identifier of the reason ("SlowConsumerPendingBytes"),
// or "" for a value outside the defined range.
func (r ClosedState) Name() string {
	if r >= ClientClosed && int(r) <= NumClosedStates {
		return reasonNames[r]
	}
	return ""
}

// SkipsFlush reports whether closing for this reason skips the final flush
// of pending output: the peer is gone or not reading, so writing more would
// only wait for the write deadline. Every other reason flushes first.
func (r ClosedState) SkipsFlush() bool {
	switch r {
	case ReadError, WriteError, SlowConsumerPendingBytes, SlowConsumerWriteDeadline, TLSHandshakeError:
		return true
	}
	return false
}

// IsSlowConsumer reports whether the reason is one of the two slow-consumer
// reasons.
func (r ClosedState) IsSlowConsumer() bool {
	return r == SlowConsumerPendingBytes || r == SlowConsumerWriteDeadline
}
