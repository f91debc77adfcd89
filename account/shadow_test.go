package account

import (
	"testing"

	"gotest.tools/v3/assert"
)

// TestReverse: a reversed transform takes what the transform produced
// back to what it was given, wildcards of a subscription subject
// included.
func TestReverse(t *testing.T) {
	for _, tc := range []struct {
		src, dst, in string
	}{
		{"a.b", "a.b", "a.b"},
		{"events.>", "events.>", "events.x.y"},
		{"events.>", "app.events.>", "events.x.y"},
		{"events.*", "app.*", "events.x"},
		{"a.*.*", "b.*.*", "a.1.2"},
		{"a.*.*", "b.$2.$1", "a.1.2"},
		{"a.*.>", "b.*.x.>", "a.1.2.3"},
		{"events.orders.*", "orders.*", "events.orders.7"},
		{"events.x", "app.events.x", "events.x"},
	} {
		tr, err := NewTransform(tc.src, tc.dst)
		assert.NilError(t, err)
		out := tr.Apply(tc.in)
		assert.Equal(t, tr.Reverse().Apply(out), tc.in, "%s -> %s on %s (via %s)", tc.src, tc.dst, tc.in, out)
	}
	tr, err := NewTransform("events.>", "app.events.>")
	assert.NilError(t, err)
	assert.Equal(t, tr.Reverse().Apply("app.events.*"), "events.*", "a wildcard token passes as a token")
	assert.Assert(t, !tr.Identity())
	id, err := NewTransform("a.>", "a.>")
	assert.NilError(t, err)
	assert.Assert(t, id.Identity() && id.Reverse().Identity())
}

// TestShadowSubject: where an importing subscription listens in the
// exporting account, as nats-server places its shadow subscriptions
// (cases of its addShadowSubscriptions: exact, narrower, wider, overlap).
func TestShadowSubject(t *testing.T) {
	for _, tc := range []struct {
		from, to, sub string
		want          string // "" for none
	}{
		// the import's own subject
		{"events.>", "app.events.>", "app.events.>", "events.>"},
		{"events.x", "app.events.x", "app.events.x", "events.x"},
		// narrower: mapped back
		{"events.>", "app.events.>", "app.events.x", "events.x"},
		{"events.>", "app.events.>", "app.events.*", "events.*"},
		{"events.>", "app.events.>", "app.events.a.>", "events.a.>"},
		{"events.orders.*", "orders.*", "orders.7", "events.orders.7"},
		{"events.>", "events.>", "events.x", "events.x"},
		{"a.*.*", "b.$2.$1", "b.2.1", "a.1.2"},
		// wider: the whole export
		{"events.>", "app.events.>", ">", "events.>"},
		{"events.>", "app.events.>", "app.>", "events.>"},
		{"events.orders.*", "orders.*", "*.*", "events.orders.*"},
		{"events.x", "app.events.x", "app.*.x", "events.x"},
		// overlap
		{"events.orders.*", "orders.*", "*.7", "events.orders.7"},
		{"events.>", "app.events.>", "*.events.x", "events.x"},
		{"events.>", "app.events.>", "app.*.x", "events.x"},
		{"e.*.x.*", "i.*.x.*", "i.a.>", "e.a.x.*"},
		// none
		{"events.>", "app.events.>", "app.other", ""},
		{"events.>", "app.events.>", "events.x", ""},
		{"events.>", "app.events.>", "foo.*", ""},
		{"events.x", "app.events.x", "app.events.y", ""},
		{"events.orders.*", "orders.*", "orders.*.x", ""},
	} {
		tr, err := NewTransform(tc.from, tc.to)
		assert.NilError(t, err)
		got, ok := ShadowSubject(tc.sub, tc.from, tc.to, tr.Reverse())
		if tc.want == "" {
			assert.Assert(t, !ok, "%s -> %s, sub %s: got %q", tc.from, tc.to, tc.sub, got)
			continue
		}
		assert.Assert(t, ok, "%s -> %s, sub %s", tc.from, tc.to, tc.sub)
		assert.Equal(t, got, tc.want, "%s -> %s, sub %s", tc.from, tc.to, tc.sub)
	}
}
