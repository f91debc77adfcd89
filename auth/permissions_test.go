package auth

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

func sp(allow, deny []string) *SubjectPermission { return &SubjectPermission{Allow: allow, Deny: deny} }

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "foo.bar", false},
		{"foo.bar", "foo", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.*", "foo", false},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{">", "a", true},
		{"*", "a", true},
		{"*", "a.b", false},
		{"*.b.>", "a.b.c", true},
		{"*.b.>", "a.c.c", false},
		// The subject's wildcard tokens are literal: only pattern wildcards
		// match them.
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", true},
		{"foo.bar", "foo.*", false},
		{"foo.>", "foo.*", true},
		{"foo.>", "foo.>", true},
		{"*a", "*a", true},
		{"foo", "", false},
		{"foo.*", "foo.", false},
	} {
		assert.Equal(t, Matches(tc.pattern, tc.s), tc.want, "%q ~ %q", tc.pattern, tc.s)
	}
}

func TestCollide(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"foo.bar", "foo.bar", true},
		{"foo.bar", "foo.baz", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "*.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{">", "a.b.c", true},
		{"a.*.c", "a.b.*", true},
		{"a.*.c", "a.b.d", false},
		{"*", "a.b", false},
	} {
		assert.Equal(t, Collide(tc.a, tc.b), tc.want, "%q x %q", tc.a, tc.b)
		assert.Equal(t, Collide(tc.b, tc.a), tc.want, "%q x %q", tc.b, tc.a)
	}
}

// TestPerms: permissions × (operation, subject, queue) → allowed, as
// nats-server decides.
func TestPerms(t *testing.T) {
	type op int
	const (
		pub op = iota
		sub
		deliver // DeliveryDenied (true: denied)
		filter  // NeedsDeliveryFilter
	)
	type check struct {
		op         op
		subject, q string
		want       bool
	}
	cases := []struct {
		name   string
		perms  *Permissions
		checks []check
	}{
		{"nil allows all", nil, []check{{pub, "a", "", true}, {sub, ">", "q", true}, {filter, ">", "", false}}},
		{"publish allow list", &Permissions{Publish: sp([]string{"orders.>", "ping"}, nil)}, []check{
			{pub, "orders.new", "", true}, {pub, "ping", "", true}, {pub, "pong", "", false}, {pub, "orders", "", false},
			{sub, "anything", "", true},
		}},
		{"publish allow then deny", &Permissions{Publish: sp([]string{"orders.>"}, []string{"orders.secret"})}, []check{
			{pub, "orders.new", "", true}, {pub, "orders.secret", "", false},
		}},
		{"publish deny only", &Permissions{Publish: sp(nil, []string{"admin.>"})}, []check{
			{pub, "orders", "", true}, {pub, "admin.x", "", false},
		}},
		{"empty allow allows nothing", &Permissions{Publish: sp([]string{}, nil)}, []check{{pub, "a", "", false}}},
		{"allow_responses alone denies publishing", &Permissions{Response: &ResponsePermission{}}, []check{
			{pub, "anything", "", false}, {sub, "anything", "", true},
		}},
		{"allow_responses keeps an allow list", &Permissions{Publish: sp([]string{"ok"}, nil), Response: &ResponsePermission{}}, []check{
			{pub, "ok", "", true}, {pub, "other", "", false},
		}},
		{"subscribe allow", &Permissions{Subscribe: sp([]string{"foo.*"}, nil)}, []check{
			{sub, "foo.bar", "", true}, {sub, "foo.*", "", true}, {sub, "foo.>", "", true}, // as nats-server: the subject's '>' is a literal token
			{sub, "foo.bar.baz", "", false}, {sub, ">", "", false}, {sub, "foo.bar", "q", true},
		}},
		{"subscribe allow by queue", &Permissions{Subscribe: sp([]string{"jobs.* workers", "jobs.*.v* v.*", "free"}, nil)}, []check{
			{sub, "jobs.a", "workers", true}, {sub, "jobs.a", "thieves", false}, {sub, "jobs.a", "", false},
			{sub, "jobs.a.v1", "v.1", false}, {sub, "free", "", true}, {sub, "free", "any", true},
		}},
		{"subscribe wildcard queue", &Permissions{Subscribe: sp([]string{"jobs v.*"}, nil)}, []check{
			{sub, "jobs", "v.1", true}, {sub, "jobs", "v.1.2", false}, {sub, "jobs", "w.1", false},
		}},
		{"subscribe deny", &Permissions{Subscribe: sp(nil, []string{"secret.>", "jobs thieves"})}, []check{
			{sub, "secret.x", "", false}, {sub, "secret.x", "q", false}, {sub, "public", "", true},
			{sub, "jobs", "thieves", false}, {sub, "jobs", "workers", true}, {sub, "jobs", "", true},
		}},
		{"delivery filter", &Permissions{Subscribe: sp(nil, []string{"foo.secret", "bar q1"})}, []check{
			{sub, "foo.*", "", true}, {filter, "foo.*", "", true}, {filter, ">", "", true}, {filter, "foo.public", "", false},
			{filter, "baz.*", "", false}, {filter, "bar", "q1", true}, {filter, "bar", "q2", true},
			{deliver, "foo.secret", "", true}, {deliver, "foo.public", "", false},
			{deliver, "bar", "q1", true}, {deliver, "bar", "q2", false}, {deliver, "bar", "", false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.NilError(t, tc.perms.Validate())
			p := Compile(tc.perms)
			for _, c := range tc.checks {
				var got bool
				switch c.op {
				case pub:
					got = p.Publish(c.subject)
				case sub:
					got = p.Subscribe(c.subject, c.q)
				case deliver:
					got = p.DeliveryDenied(c.subject, c.q)
				case filter:
					got = p.NeedsDeliveryFilter(c.subject, c.q)
				}
				assert.Equal(t, got, c.want, "op %d %q %q", c.op, c.subject, c.q)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	assert.Assert(t, Compile(nil) == nil)
	assert.Assert(t, Compile(&Permissions{}) == nil)
	p := Compile(&Permissions{Response: &ResponsePermission{}})
	assert.DeepEqual(t, *p.Responses(), ResponsePermission{MaxMsgs: DefaultResponseMaxMsgs, Expires: DefaultResponseExpires})
	assert.Assert(t, p.RestrictsPublish() && !p.RestrictsSubscribe())
	q := Compile(&Permissions{Response: &ResponsePermission{MaxMsgs: 0}})
	assert.Assert(t, p.Equal(q) && !p.Equal(nil) && (*Perms)(nil).Equal(nil))
	r := Compile(&Permissions{Response: &ResponsePermission{MaxMsgs: 3, Expires: time.Second}})
	assert.Assert(t, !p.Equal(r))
	assert.DeepEqual(t, *r.Responses(), ResponsePermission{MaxMsgs: 3, Expires: time.Second})
}

func TestPubCache(t *testing.T) {
	p := Compile(&Permissions{Publish: sp([]string{"ok.>"}, nil)})
	var c PubCache
	assert.Assert(t, c.Allowed(p, []byte("ok.1")))
	assert.Assert(t, !c.Allowed(p, []byte("no")))
	assert.Assert(t, !c.Allowed(p, []byte("no"))) // cached
	for i := range 3 * pubCacheSize {
		c.Allowed(p, []byte("ok."+string(rune('a'+i%26))+string(rune('a'+i/26))))
	}
	assert.Assert(t, len(c.m) <= pubCacheSize)
	// New permissions (a reload) are not answered from the old cache.
	q := Compile(&Permissions{Publish: sp([]string{"no"}, nil)})
	assert.Assert(t, c.Allowed(q, []byte("no")))
	assert.Assert(t, !c.Allowed(q, []byte("ok.1")))
	subj := []byte("no")
	assert.Equal(t, testing.AllocsPerRun(100, func() { c.Allowed(q, subj) }), 0.0)
}

func TestReplies(t *testing.T) {
	t0 := time.Unix(1000, 0)
	one := &ResponsePermission{MaxMsgs: 1, Expires: time.Minute}
	var r Replies
	assert.Assert(t, !r.Allow("_INBOX.1", t0, one))
	r.Add("_INBOX.1", t0, one)
	assert.Assert(t, r.Allow("_INBOX.1", t0.Add(time.Second), one))
	assert.Assert(t, !r.Allow("_INBOX.1", t0.Add(time.Second), one), "a second reply is over max")
	assert.Equal(t, r.Len(), 0)

	r.Add("_INBOX.2", t0, one)
	assert.Assert(t, !r.Allow("_INBOX.2", t0.Add(2*time.Minute), one), "too late")

	many := &ResponsePermission{MaxMsgs: -1, Expires: -1}
	r.Add("_INBOX.3", t0, many)
	for range 10 {
		assert.Assert(t, r.Allow("_INBOX.3", t0.Add(time.Hour), many))
	}
	for i := range repliesPruneAt + 10 {
		r.Add("x."+time.Duration(i).String(), t0, one)
		r.Allow("x."+time.Duration(i).String(), t0, one)
	}
	assert.Assert(t, r.Len() < repliesPruneAt+10)
}
