package conn

import (
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/account"
	"gotest.tools/v3/assert"
)

func TestSetHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hdrLen int
		msg    string
		want   string
	}{
		{"no headers", -1, "body", "NATS/1.0\r\nK: v\r\n\r\nbody"},
		{"empty body", -1, "", "NATS/1.0\r\nK: v\r\n\r\n"},
		{"other headers", 0, "NATS/1.0\r\nA: 1\r\n\r\nbody", "NATS/1.0\r\nA: 1\r\nK: v\r\n\r\nbody"},
		{"replaced", 0, "NATS/1.0\r\nK: old\r\nA: 1\r\n\r\nbody", "NATS/1.0\r\nA: 1\r\nK: v\r\n\r\nbody"},
		{"status line", 0, "NATS/1.0 503\r\nA: 1\r\n\r\nb", "NATS/1.0 503\r\nA: 1\r\nK: v\r\n\r\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdrLen := tc.hdrLen
			if hdrLen >= 0 {
				hdrLen = strings.Index(tc.msg, "\r\n\r\n") + 4
			}
			n, got := setHeader(hdrLen, []byte(tc.msg), "K", []byte("v"))
			assert.Equal(t, string(got), tc.want)
			assert.Equal(t, string(got[n-4:n]), "\r\n\r\n")
		})
	}
}

func TestPendingReplies(t *testing.T) {
	a, b := newAccount("A"), newAccount("B")
	a.ensureResponses()
	assert.Equal(t, a.Index.Count(), 1, "the responses subscription")
	single := a.expectReply(b, "_INBOX.1", account.Singleton, time.Minute)
	assert.Assert(t, replyPrefixOf(t, string(single)) == a.replyPrefix)
	p := a.takeReply(string(single), -1, []byte("x"))
	assert.Assert(t, p != nil && p.to == b && p.reply == "_INBOX.1")
	assert.Assert(t, a.takeReply(string(single), -1, []byte("x")) == nil, "a singleton answers once")

	streamed := a.expectReply(b, "_INBOX.2", account.Streamed, time.Minute)
	for range 3 {
		assert.Assert(t, a.takeReply(string(streamed), -1, []byte("x")) != nil)
	}
	chunked := a.expectReply(b, "_INBOX.3", account.Chunked, time.Minute)
	assert.Assert(t, a.takeReply(string(chunked), -1, []byte("x")) != nil)
	assert.Assert(t, a.takeReply(string(chunked), -1, nil) != nil, "the empty last chunk")
	assert.Assert(t, a.takeReply(string(chunked), -1, []byte("x")) == nil)

	expired := a.expectReply(b, "_INBOX.4", account.Streamed, -time.Second)
	assert.Assert(t, a.takeReply(string(expired), -1, []byte("x")) == nil)
	for i := range 3 * replySweep {
		a.expectReply(b, "_INBOX.x", account.Singleton, time.Duration(i%2-1)) // half already expired
	}
	assert.Assert(t, a.numPending() < 3*replySweep, "expired requests are swept: %d", a.numPending())
	assert.Assert(t, newAccount("C").expectReply(b, "r", account.Singleton, time.Minute) == nil, "an account without service exports takes no requests")
}

func replyPrefixOf(t *testing.T, r string) string {
	t.Helper()
	assert.Equal(t, len(r), len("_R_.xxxxxx.yyyyyy"), r)
	return r[:len("_R_.xxxxxx.")]
}

func TestNewAccountsKeepsAccountsOnRebuild(t *testing.T) {
	cfg := account.Config{Accounts: []account.Account{
		{Name: "A", Exports: []account.Export{{Kind: account.Stream, Subject: "e.>"}}},
		{Name: "B", Imports: []account.Import{{Kind: account.Stream, Account: "A", Subject: "e.>", Prefix: "a"}}},
	}}
	r1, err := NewAccounts(cfg, "$SYS", nil, nil, nil)
	assert.NilError(t, err)
	assert.Assert(t, r1.Global() != nil && r1.System() != nil && r1.Lookup("A") != nil)
	assert.Equal(t, r1.Lookup("A").Index.Count(), 0, "no subscription of B yet, no shadow in A")
	_, err = r1.Lookup("B").SubscribeInternal("a.e.x", "1", func(_, _, _, _ []byte) {})
	assert.NilError(t, err)
	assert.Equal(t, r1.Lookup("A").Index.Count(), 1, "the shadow of B's subscription listens in A")
	cfg.Accounts[1].Imports = nil
	r2, err := NewAccounts(cfg, "$SYS", nil, r1, nil)
	assert.NilError(t, err)
	assert.Assert(t, r2.Lookup("A") == r1.Lookup("A"), "an account that remains is the same value")
	assert.Equal(t, r2.Lookup("A").Index.Count(), 0, "the removed import's shadow is gone")
	assert.Equal(t, r2.Lookup("B").Index.Count(), 1, "the subscription stays")
	var names []string
	r2.Range(func(a *Account) bool { names = append(names, a.Name()); return true })
	assert.DeepEqual(t, names, []string{"$G", "A", "B", "$SYS"})
}
