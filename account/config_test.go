package account

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestTransform(t *testing.T) {
	for _, tc := range []struct {
		src, dst, in, want string
	}{
		{"a.b", "a.b", "a.b", "a.b"},
		{"events.>", "events.>", "events.x.y", "events.x.y"},
		{"events.>", "app.events.>", "events.x.y", "app.events.x.y"},
		{"events.*", "app.*", "events.x", "app.x"},
		{"a.*.*", "b.*.*", "a.1.2", "b.1.2"},
		{"a.*.*", "b.$2.$1", "a.1.2", "b.2.1"},
		{"a.*.>", "b.*.x.>", "a.1.2.3", "b.1.x.2.3"},
		{"echo", "svc.echo", "echo", "svc.echo"},
		{"echo.*", "svc.echo", "echo.z", "svc.echo"},
	} {
		tr, err := NewTransform(tc.src, tc.dst)
		assert.NilError(t, err, "%s -> %s", tc.src, tc.dst)
		assert.Equal(t, tr.Apply(tc.in), tc.want, "%s -> %s on %s", tc.src, tc.dst, tc.in)
	}
	for _, bad := range [][2]string{{"a.*", "b.*.*"}, {"a.*", "b.>"}, {"a.*.*", "b.*"}, {"a.*", "b.$2"}, {"echo", "svc.*"}} {
		_, err := NewTransform(bad[0], bad[1])
		assert.Assert(t, err != nil, "%s -> %s", bad[0], bad[1])
	}
}

func TestLocalSubject(t *testing.T) {
	for _, tc := range []struct {
		im   Import
		want string
	}{
		{Import{Kind: Stream, Subject: "events.>", Prefix: "app"}, "app.events.>"},
		{Import{Kind: Stream, Subject: "events.>", Prefix: "app."}, "app.events.>"},
		{Import{Kind: Stream, Subject: "events.*", To: "mine.*"}, "mine.*"},
		{Import{Kind: Service, Subject: "svc.echo", To: "echo"}, "echo"},
		{Import{Kind: Service, Subject: "svc.echo"}, "svc.echo"},
	} {
		assert.Equal(t, tc.im.LocalSubject(), tc.want)
	}
}

// TestValidate: the accounts configurations nats-server refuses, with its
// texts.
func TestValidate(t *testing.T) {
	app := Account{Name: "APP", Exports: []Export{
		{Kind: Stream, Subject: "events.>"},
		{Kind: Service, Subject: "svc.>", Accounts: []string{"OTHER"}},
		{Kind: Stream, Subject: "private", Accounts: []string{"OTHER"}},
	}}
	with := func(imports ...Import) Config {
		return Config{Accounts: []Account{app, {Name: "OTHER", Imports: imports}, {Name: "THIRD"}}}
	}
	good := []Config{
		with(Import{Kind: Stream, Account: "APP", Subject: "events.>", Prefix: "app"}),
		with(Import{Kind: Stream, Account: "APP", Subject: "events.orders", To: "orders"}),
		with(Import{Kind: Stream, Account: "APP", Subject: "events.*", To: "app.*"}),
		with(Import{Kind: Service, Account: "APP", Subject: "svc.echo", To: "echo"}),
		with(Import{Kind: Service, Account: "APP", Subject: "svc.>"}),
		with(Import{Kind: Stream, Account: "APP", Subject: "private"}),
	}
	for _, c := range good {
		assert.NilError(t, c.Validate(), "%+v", c.Accounts[1].Imports)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"reserved", Config{Accounts: []Account{{Name: "$G"}}}, `"$G" is a Reserved Account`},
		{"duplicate", Config{Accounts: []Account{{Name: "A"}, {Name: "A"}}}, "Duplicate Account Entry: A"},
		{"undefined importer", with(Import{Kind: Stream, Account: "NOPE", Subject: "x"}), `"NOPE" account not defined for stream import`},
		{"undefined in export list", Config{Accounts: []Account{{Name: "A", Exports: []Export{{Kind: Service, Subject: "x", Accounts: []string{"B"}}}}}}, `"B" account not defined for service export`},
		{"not exported", with(Import{Kind: Stream, Account: "APP", Subject: "other"}), `Error adding stream import "other": stream import not authorized`},
		{"wider than the export", with(Import{Kind: Stream, Account: "APP", Subject: ">"}), `Error adding stream import ">": stream import not authorized`},
		{"service is not a stream", with(Import{Kind: Stream, Account: "APP", Subject: "svc.echo"}), `Error adding stream import "svc.echo": stream import not authorized`},
		{"not in the accounts list", Config{Accounts: []Account{app, {Name: "OTHER"}, {Name: "THIRD", Imports: []Import{{Kind: Service, Account: "APP", Subject: "svc.echo"}}}}}, `Error adding service import "svc.echo": service import not authorized`},
		{"wildcard prefix", with(Import{Kind: Stream, Account: "APP", Subject: "events.>", Prefix: "a.*"}), "stream import prefix can not contain wildcard tokens"},
		{"duplicate stream import", with(Import{Kind: Stream, Account: "APP", Subject: "events.>"}, Import{Kind: Stream, Account: "APP", Subject: "events.>", Prefix: "x"}), "stream import already exists"},
		{"stream to a literal", with(Import{Kind: Stream, Account: "APP", Subject: "events.*", To: "flat"}), "failed to create mapping transform"},
		{"cycle", Config{Accounts: []Account{
			{Name: "A", Exports: []Export{{Kind: Service, Subject: "s"}}, Imports: []Import{{Kind: Service, Account: "B", Subject: "s"}}},
			{Name: "B", Exports: []Export{{Kind: Service, Subject: "s"}}, Imports: []Import{{Kind: Service, Account: "A", Subject: "s"}}},
		}}, `Error adding service import "s": import forms a cycle`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, tc.cfg.Validate(), tc.want)
		})
	}
}

func TestAuthorizes(t *testing.T) {
	a := Account{Name: "A", Exports: []Export{{Kind: Service, Subject: "svc.*", Response: Streamed}, {Kind: Service, Subject: "svc.x", Accounts: []string{"B"}}}}
	e := a.Authorizes(Service, "svc.x", "B")
	assert.Assert(t, e != nil && e.Subject == "svc.x")
	e = a.Authorizes(Service, "svc.x", "C")
	assert.Assert(t, e != nil && e.Subject == "svc.*" && e.Response == Streamed)
	assert.Assert(t, a.Authorizes(Stream, "svc.x", "B") == nil)
	assert.Equal(t, (&Export{}).ResponseThreshold(), DefaultResponseThreshold)
}
