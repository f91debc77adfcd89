package lifecycle

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	logtest "github.com/sirupsen/logrus/hooks/test"
	"gotest.tools/v3/assert"
)

// TestOptionTableCoversEveryOption: every field of Options has exactly one
// row in optionTable, so a new option cannot be forgotten by reload (live,
// fixed or kept) or by the reload log.
func TestOptionTableCoversEveryOption(t *testing.T) {
	typ := reflect.TypeFor[Options]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			var base, changed Options
			v := reflect.ValueOf(&changed).Elem().Field(i)
			switch v.Kind() {
			case reflect.String:
				v.SetString("x")
			case reflect.Bool:
				v.SetBool(true)
			case reflect.Int, reflect.Int64:
				v.SetInt(7)
			case reflect.Struct:
				// A field group (Auth, Accounts): change its first
				// plain field.
				set := false
				for j := 0; j < v.NumField() && !set; j++ {
					switch g := v.Field(j); g.Kind() {
					case reflect.String:
						g.SetString("x")
						set = true
					case reflect.Bool:
						g.SetBool(true)
						set = true
					case reflect.Slice:
						g.Set(reflect.MakeSlice(g.Type(), 1, 1))
						set = true
					}
				}
				if !set {
					t.Fatalf("field %s: no plain field to change", f.Name)
				}
			default:
				t.Fatalf("field %s: kind %s not handled by this test", f.Name, v.Kind())
			}
			var rows []string
			for _, o := range optionTable {
				if o.get(&base) != o.get(&changed) {
					rows = append(rows, o.name)
				}
			}
			assert.Equal(t, len(rows), 1, "field %s is read by rows %v of optionTable, want exactly one", f.Name, rows)
		})
	}
}

// TestValidateReportsEveryProblem: each bad option is named, in one line.
func TestValidateReportsEveryProblem(t *testing.T) {
	o := Options{Port: 70000, HTTPPort: -5, MaxConn: -1, LameDuckDuration: time.Second, LameDuckGracePeriod: 2 * time.Second}
	o.SetDefaults()
	err := o.Validate()
	var verr ValidationError
	assert.Assert(t, errors.As(err, &verr), "%T", err)
	want := []string{"port: 70000", "http_port: -5", "max_connections", "lame_duck_grace_period (2s) must be less than lame_duck_duration (1s)"}
	assert.Equal(t, len(verr), len(want), err.Error())
	for i, w := range want {
		assert.Assert(t, strings.Contains(verr[i].Error(), w), "problem %d: %q lacks %q", i, verr[i], w)
	}
	assert.Assert(t, !strings.Contains(err.Error(), "\n"), "not one line: %q", err)
	assert.Assert(t, strings.Contains(err.Error(), "; http_port: -5"), err.Error())

	good := Options{}
	good.SetDefaults()
	assert.NilError(t, good.Validate())
}

// TestReloadLogsWhatChanged: the reload log names every changed option
// and every change of the caller's parts, one "Reloaded: name = value"
// line each, as nats-server does; a reload that changes nothing says so.
func TestReloadLogsWhatChanged(t *testing.T) {
	log := quietLog(t)
	hook := logtest.NewLocal(log)
	s := startServerWith(t, Deps{Log: log}, nil)
	o := s.Options()
	o.MaxPayload = 2048
	o.PingInterval = time.Minute
	applied := 0
	assert.NilError(t, s.Reload(&o, "test", ReloadPart{Changes: []string{"debug = true"}, Apply: func() { applied++ }}))
	assert.Equal(t, applied, 1)
	var got []string
	for _, e := range hook.AllEntries() {
		if strings.Contains(e.Message, "Reloaded") || strings.Contains(e.Message, "event reload") {
			got = append(got, e.Message)
		}
	}
	assert.DeepEqual(t, got, []string{
		"Reloaded: max_payload = 2048",
		"Reloaded: ping_interval = 1m0s",
		"Reloaded: debug = true",
		"Server state listening -> listening (event reload, cause: test): max_payload = 2048, ping_interval = 1m0s, debug = true",
	})

	hook.Reset()
	assert.NilError(t, s.Reload(&o, "again"))
	assert.Equal(t, hook.LastEntry().Message, "Server state listening -> listening (event reload, cause: again): no changes")
}

// TestRefusedReloadChangesNothing: a refused reload applies none of its
// parts and leaves no file behind at the new places; the running options
// stay.
func TestRefusedReloadChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, func(o *Options) { o.PidFile = filepath.Join(dir, "old.pid") })
	unwritable := filepath.Join(dir, "missing", "dir")
	cases := []struct {
		name    string
		mod     func(*Options)
		wantErr string
	}{
		{"fixed option", func(o *Options) { o.ServerName = "renamed" }, "cannot change server_name"},
		{"invalid value", func(o *Options) { o.MaxPayload = -1 }, "must not be negative"},
		{"ports file cannot be written", func(o *Options) {
			o.PidFile = filepath.Join(dir, "new.pid")
			o.PortsFileDir = unwritable
		}, "write ports file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := s.Options()
			o.MaxPayload = 4096
			tc.mod(&o)
			applied := false
			err := s.Reload(&o, "test", ReloadPart{Changes: []string{"debug = true"}, Apply: func() { applied = true }})
			assert.ErrorContains(t, err, tc.wantErr)
			assert.Assert(t, strings.HasPrefix(err.Error(), "reload rejected: "), err.Error())
			assert.Assert(t, !applied, "the caller's part was applied")
			assert.Equal(t, s.Options().MaxPayload, DefaultMaxPayload)
			_, err = os.Stat(filepath.Join(dir, "new.pid"))
			assert.Assert(t, os.IsNotExist(err), "pid file written at the new place")
			_, err = os.Stat(filepath.Join(dir, "old.pid"))
			assert.NilError(t, err, "pid file gone from the running place")
		})
	}
}
