package monitor

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// fixture reads testdata/nats-server-fields.txt: per type, the names natsd
// claims ("yes" or "natsd") and the names it leaves out ("no").
func fixture(t *testing.T) (claimed, missing map[string][]string) {
	t.Helper()
	f, err := os.Open("testdata/nats-server-fields.txt")
	assert.NilError(t, err)
	defer f.Close()
	claimed, missing = map[string][]string{}, map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		w := strings.Fields(line)
		assert.Equal(t, len(w), 3, "fixture line %q", line)
		switch w[2] {
		case "yes", "natsd":
			claimed[w[0]] = append(claimed[w[0]], w[1])
		case "no":
			missing[w[0]] = append(missing[w[0]], w[1])
		default:
			t.Fatalf("fixture line %q: third word must be yes, no or natsd", line)
		}
	}
	assert.NilError(t, sc.Err())
	return claimed, missing
}

// keys marshals v and returns its top-level JSON names.
func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	assert.NilError(t, err)
	var m map[string]json.RawMessage
	assert.NilError(t, json.Unmarshal(b, &m))
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestFieldNames checks natsd's monitoring JSON against nats-server's
// names: every name natsd claims in the fixture is present (with every
// optional field filled in), and natsd emits no name the fixture does not
// list as claimed.
func TestFieldNames(t *testing.T) {
	claimed, missing := fixture(t)

	f := newFake()
	f.stats.InMsgs.Store(1)
	f.cfg.MaxSubs = 100
	f.cfg.AuthRequired = true
	o := snap(1)
	o.Name, o.Lang, o.Version = "n", "go", "1"
	o.Subscriptions, o.NumSubs = []string{"x"}, 1
	o.RTT = time.Millisecond
	closed := closedSnap(2, conn.ClientClosed, t0)
	closed.Name, closed.Lang, closed.Version = "n", "go", "1"
	closed.Subscriptions, closed.NumSubs = []string{"x"}, 1
	f.open, f.closed = []conn.Snapshot{o}, []conn.Snapshot{closed}
	m := newMonitor(f)
	connz := m.Connz(ConnzOptions{State: ConnAny, Subs: true})
	assert.Equal(t, len(connz.Conns), 2)
	ours := map[string][]string{
		"Varz":     keys(t, m.Varz()),
		"Connz":    keys(t, connz),
		"ConnInfo": keys(t, connz.Conns[1]), // the closed one has every field
	}
	f.state = State{Name: "lame_duck"} // an unhealthy answer has every field
	_, unhealthy := m.Healthz()
	ours["HealthStatus"] = keys(t, unhealthy)
	for typ, names := range ours {
		for _, want := range claimed[typ] {
			assert.Check(t, slices.Contains(names, want), "%s: claimed field %q is missing from %v", typ, want, names)
		}
		for _, got := range names {
			assert.Check(t, slices.Contains(claimed[typ], got),
				"%s: field %q is not a claimed nats-server name (listed as missing: %v)", typ, got, slices.Contains(missing[typ], got))
		}
	}
	assert.Equal(t, len(ours), len(claimed), "the fixture lists types the test does not check")
}
