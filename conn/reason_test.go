package conn

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestClosedStateNumbersAndTexts(t *testing.T) {
	cases := []struct {
		r    ClosedState
		n    int
		text string
		skip bool
	}{
		{ClientClosed, 1, "Client Closed", false},
		{AuthenticationTimeout, 2, "Authentication Timeout", false},
		{AuthenticationViolation, 3, "Authentication Failure", false},
		{TLSHandshakeError, 4, "TLS Handshake Failure", true},
		{SlowConsumerPendingBytes, 5, "Slow Consumer (Pending Bytes)", true},
		{SlowConsumerWriteDeadline, 6, "Slow Consumer (Write Deadline)", true},
		{WriteError, 7, "Write Error", true},
		{ReadError, 8, "Read Error", true},
		{ParseError, 9, "Parse Error", false},
		{StaleConnection, 10, "Stale Connection", false},
		{ProtocolViolation, 11, "Protocol Violation", false},
		{BadClientProtocolVersion, 12, "Bad Client Protocol Version", false},
		{WrongPort, 13, "Incorrect Port", false},
		{MaxAccountConnectionsExceeded, 14, "Maximum Account Connections Exceeded", false},
		{MaxConnectionsExceeded, 15, "Maximum Connections Exceeded", false},
		{MaxPayloadExceeded, 16, "Maximum Message Payload Exceeded", false},
		{MaxControlLineExceeded, 17, "Maximum Control Line Exceeded", false},
		{MaxSubscriptionsExceeded, 18, "Maximum Subscriptions Exceeded", false},
		{DuplicateRoute, 19, "Duplicate Route", false},
		{RouteRemoved, 20, "Route Removed", false},
		{ServerShutdown, 21, "Server Shutdown", false},
		{AuthenticationExpired, 22, "Authentication Expired", false},
		{WrongGateway, 23, "Wrong Gateway", false},
		{MissingAccount, 24, "Missing Account", false},
		{Revocation, 25, "Credentials Revoked", false},
		{InternalClient, 26, "Internal Client", false},
		{MsgHeaderViolation, 27, "Message Header Violation", false},
		{NoRespondersRequiresHeaders, 28, "No Responders Requires Headers", false},
		{ClusterNameConflict, 29, "Cluster Name Conflict", false},
		{DuplicateRemoteLeafnodeConnection, 30, "Duplicate Remote LeafNode Connection", false},
		{DuplicateClientID, 31, "Duplicate Client ID", false},
		{DuplicateServerName, 32, "Duplicate Server Name", false},
		{MinimumVersionRequired, 33, "Minimum Version Required", false},
		{ClusterNamesIdentical, 34, "Cluster Names Identical", false},
		{Kicked, 35, "Kicked", false},
		{ProxyNotTrusted, 36, "Proxy Not Trusted", false},
		{ProxyRequired, 37, "Proxy Required", false},
	}
	assert.Equal(t, len(cases), NumClosedStates)
	for _, tc := range cases {
		assert.Equal(t, int(tc.r), tc.n, tc.text)
		assert.Equal(t, tc.r.String(), tc.text)
		assert.Equal(t, tc.r.SkipsFlush(), tc.skip, tc.text)
		assert.Assert(t, tc.r.Name() != "")
	}
	assert.Equal(t, ClosedState(0).String(), "Unknown State")
	assert.Equal(t, ClosedState(38).String(), "Unknown State")
}

// TestFirstReasonWinsLaterErrorSkipsFlush: the reported reason is the
// first; a later skip-flush reason still turns the flush off.
func TestFirstReasonWinsLaterErrorSkipsFlush(t *testing.T) {
	cases := []struct {
		name     string
		reasons  []ClosedState
		want     ClosedState
		wantSkip bool
	}{
		{"one flushing reason", []ClosedState{ServerShutdown}, ServerShutdown, false},
		{"one skipping reason", []ClosedState{ReadError}, ReadError, true},
		{"error after -ERR", []ClosedState{MaxPayloadExceeded, WriteError}, MaxPayloadExceeded, true},
		{"shutdown after slow consumer", []ClosedState{SlowConsumerPendingBytes, ServerShutdown}, SlowConsumerPendingBytes, true},
		{"two flushing reasons", []ClosedState{StaleConnection, ServerShutdown}, StaleConnection, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Conn
			for _, r := range tc.reasons {
				c.recordReason(r)
			}
			assert.Equal(t, c.Reason(), tc.want)
			assert.Equal(t, c.SkipFlush(), tc.wantSkip)
		})
	}
}
