package lifecycle

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/auth"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// The system account through nats.go: events decoded into structs that
// carry nats-server's field names only (so natsd sends no name nats-server
// does not), requests with their envelope and filters, KICK and LDM, the
// lame-duck request and the order of events during a drain, and the
// isolation of every other account.

// The events' JSON as nats-server v2.15.2 names it (server/events.go).
type (
	nsServerInfo struct {
		Name      string    `json:"name"`
		Host      string    `json:"host"`
		ID        string    `json:"id"`
		Cluster   string    `json:"cluster,omitempty"`
		Version   string    `json:"ver"`
		JetStream bool      `json:"jetstream"`
		Flags     uint64    `json:"flags"`
		Seq       uint64    `json:"seq"`
		Time      time.Time `json:"time"`
	}
	nsClientInfo struct {
		Start      *time.Time    `json:"start,omitempty"`
		Host       string        `json:"host,omitempty"`
		ID         uint64        `json:"id,omitempty"`
		Account    string        `json:"acc,omitempty"`
		User       string        `json:"user,omitempty"`
		Name       string        `json:"name,omitempty"`
		Lang       string        `json:"lang,omitempty"`
		Version    string        `json:"ver,omitempty"`
		RTT        time.Duration `json:"rtt,omitempty"`
		Stop       *time.Time    `json:"stop,omitempty"`
		NameTag    string        `json:"name_tag,omitempty"`
		Kind       string        `json:"kind,omitempty"`
		ClientType string        `json:"client_type,omitempty"`
	}
	nsMsgBytes struct {
		Msgs  int64 `json:"msgs"`
		Bytes int64 `json:"bytes"`
	}
	nsDataStats struct {
		nsMsgBytes
		Gateways *nsMsgBytes `json:"gateways,omitempty"`
		Routes   *nsMsgBytes `json:"routes,omitempty"`
		Leafs    *nsMsgBytes `json:"leafs,omitempty"`
	}
	nsTypedEvent struct {
		Type string    `json:"type"`
		ID   string    `json:"id"`
		Time time.Time `json:"timestamp"`
	}
	nsConnectEvent struct {
		nsTypedEvent
		Server nsServerInfo `json:"server"`
		Client nsClientInfo `json:"client"`
	}
	nsDisconnectEvent struct {
		nsTypedEvent
		Server   nsServerInfo `json:"server"`
		Client   nsClientInfo `json:"client"`
		Sent     nsDataStats  `json:"sent"`
		Received nsDataStats  `json:"received"`
		Reason   string       `json:"reason"`
	}
	nsAccountConns struct {
		nsTypedEvent
		Server        nsServerInfo `json:"server"`
		Account       string       `json:"acc"`
		Name          string       `json:"name"`
		Conns         int          `json:"conns"`
		LeafNodes     int          `json:"leafnodes"`
		TotalConns    int          `json:"total_conns"`
		NumSubs       uint32       `json:"num_subscriptions"`
		Sent          nsDataStats  `json:"sent"`
		Received      nsDataStats  `json:"received"`
		SlowConsumers int64        `json:"slow_consumers"`
	}
	nsServerStats struct {
		Start               time.Time   `json:"start"`
		Mem                 int64       `json:"mem"`
		Cores               int         `json:"cores"`
		CPU                 float64     `json:"cpu"`
		Connections         int         `json:"connections"`
		TotalConnections    uint64      `json:"total_connections"`
		ActiveAccounts      int         `json:"active_accounts"`
		NumSubs             uint32      `json:"subscriptions"`
		Sent                nsDataStats `json:"sent"`
		SentToClients       nsDataStats `json:"sent_to_clients"`
		Received            nsDataStats `json:"received"`
		ReceivedFromClients nsDataStats `json:"received_from_clients"`
		SlowConsumers       int64       `json:"slow_consumers"`
		ActiveServers       int         `json:"active_servers,omitempty"`
		MaxProcs            int         `json:"gomaxprocs,omitempty"`
	}
	nsServerStatsMsg struct {
		Server nsServerInfo  `json:"server"`
		Stats  nsServerStats `json:"statsz"`
	}
	nsAPIError struct {
		Code        int    `json:"code"`
		Description string `json:"description,omitempty"`
	}
	nsAPIResponse struct {
		Server *nsServerInfo   `json:"server"`
		Data   json.RawMessage `json:"data,omitempty"`
		Error  *nsAPIError     `json:"error,omitempty"`
	}
	// nsLifecycleEvent is natsd's own event, in the same style.
	nsLifecycleEvent struct {
		nsTypedEvent
		Server nsServerInfo `json:"server"`
		From   string       `json:"from"`
		To     string       `json:"to"`
		Event  string       `json:"event"`
		Cause  string       `json:"cause,omitempty"`
		At     time.Time    `json:"at"`
	}
)

// strictDecode decodes b into v, failing on any field v does not name.
func strictDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	assert.NilError(t, d.Decode(v), "%s", b)
}

// sysServer starts a server with accounts APP (user app) and SYS (user
// sys), SYS being the system account.
func sysServer(t *testing.T, mod func(*Options)) *Server {
	t.Helper()
	return startServer(t, func(o *Options) {
		o.Accounts = account.Config{Accounts: []account.Account{{Name: "APP"}, {Name: "SYS"}}}
		o.SystemAccount = "SYS"
		o.Auth.Users = []auth.User{
			{Name: "app", Password: "pw", Account: "APP"},
			{Name: "sys", Password: "pw", Account: "SYS"},
		}
		if mod != nil {
			mod(o)
		}
	})
}

func asUser(u string) nats.Option { return nats.UserInfo(u, "pw") }

// TestSystemAccountEvents: CONNECT, SERVER.CONNS, DISCONNECT and the
// auth-error event, each with nats-server's names, types and the server
// object.
func TestSystemAccountEvents(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.>")
	assert.NilError(t, err)
	authErr, err := sys.SubscribeSync("$SYS.SERVER.*.CLIENT.AUTH.ERR")
	assert.NilError(t, err)
	flush(t, sys)

	app := connect(t, s, asUser("app"), nats.Name("appconn"))
	assert.NilError(t, app.Publish("x", []byte("hello")))
	flush(t, app)
	cid, err := app.GetClientID()
	assert.NilError(t, err)

	// As nats-server: the account's count first, then the CONNECT event.
	var conns nsAccountConns
	m := next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.ACCOUNT.APP.SERVER.CONNS")
	strictDecode(t, m.Data, &conns)
	assert.Equal(t, conns.Type, "io.nats.server.advisory.v1.account_connections")
	assert.Equal(t, conns.Conns, 1)
	assert.Equal(t, conns.Account, "APP")
	m = next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.ACCOUNT.APP.CONNECT")
	var ce nsConnectEvent
	strictDecode(t, m.Data, &ce)
	assert.Equal(t, ce.Type, "io.nats.server.advisory.v1.client_connect")
	assert.Equal(t, len(ce.ID), 22)
	assert.Equal(t, ce.Server.ID, s.ID())
	assert.Equal(t, ce.Server.Version, Version)
	assert.Assert(t, ce.Server.Seq > 0 && !ce.Server.Time.IsZero())
	assert.Equal(t, ce.Client.ID, cid)
	assert.Equal(t, ce.Client.Account, "APP")
	assert.Equal(t, ce.Client.User, "app")
	assert.Equal(t, ce.Client.Name, "appconn")
	assert.Equal(t, ce.Client.Lang, "go")
	assert.Equal(t, ce.Client.NameTag, "APP")
	assert.Equal(t, ce.Client.Kind, "Client")
	assert.Equal(t, ce.Client.ClientType, "nats")

	app.Close()
	m = next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.ACCOUNT.APP.SERVER.CONNS")
	strictDecode(t, m.Data, &conns)
	assert.Equal(t, conns.Conns, 0)
	m = next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.ACCOUNT.APP.DISCONNECT")
	var de nsDisconnectEvent
	strictDecode(t, m.Data, &de)
	assert.Equal(t, de.Type, "io.nats.server.advisory.v1.client_disconnect")
	assert.Equal(t, de.Reason, "Client Closed")
	assert.Equal(t, de.Client.ID, cid)
	assert.Assert(t, de.Client.Stop != nil && de.Client.RTT > 0)
	assert.Equal(t, de.Sent.Msgs, int64(1), "what the client sent")
	assert.Equal(t, de.Sent.Bytes, int64(5))
	assert.Assert(t, de.Server.Seq > ce.Server.Seq, "the server object counts the internal messages")

	_, err = nats.Connect(s.ClientURL(), nats.UserInfo("app", "wrong"), nats.NoReconnect())
	assert.ErrorContains(t, err, "Authorization Violation")
	m = next(t, authErr)
	assert.Equal(t, m.Subject, "$SYS.SERVER."+s.ID()+".CLIENT.AUTH.ERR")
	strictDecode(t, m.Data, &de)
	assert.Equal(t, de.Reason, "Authentication Failure")
	assert.Equal(t, de.Client.User, "app")
	assert.Equal(t, de.Client.Account, "$G")
	m = next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.ACCOUNT.$G.DISCONNECT")
	strictDecode(t, m.Data, &de)
	assert.Equal(t, de.Reason, "Authentication Failure")
}

// TestDisconnectReasonMaxPayload: a client closed for a message over
// max_payload is reported with nats-server's reason text.
func TestDisconnectReasonMaxPayload(t *testing.T) {
	s := sysServer(t, func(o *Options) { o.MaxPayload = 16 })
	sys := connect(t, s, asUser("sys"))
	sub, err := sys.SubscribeSync("$SYS.ACCOUNT.APP.DISCONNECT")
	assert.NilError(t, err)
	flush(t, sys)
	c := dialRaw(t, s)
	c.send("CONNECT {\"verbose\":false,\"user\":\"app\",\"pass\":\"pw\"}\r\nPUB big 17\r\n01234567890123456\r\n")
	assert.Equal(t, c.line(), "-ERR 'Maximum Payload Violation'")
	var de nsDisconnectEvent
	strictDecode(t, next(t, sub).Data, &de)
	assert.Equal(t, de.Reason, "Maximum Message Payload Exceeded")
}

// request sends a request and returns the one answer.
func sysRequest(t *testing.T, nc *nats.Conn, subj string, body any) []byte {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		b, err = json.Marshal(body)
		assert.NilError(t, err)
	}
	m, err := nc.Request(subj, b, 5*time.Second)
	assert.NilError(t, err, subj)
	return m.Data
}

// apiData decodes an envelope, checks it names the server and has no
// error, and decodes its data into v.
func apiData(t *testing.T, s *Server, b []byte, v any) {
	t.Helper()
	var r nsAPIResponse
	strictDecode(t, b, &r)
	assert.Assert(t, r.Error == nil, "%s", b)
	assert.Assert(t, r.Server != nil && r.Server.ID == s.ID(), "%s", b)
	assert.NilError(t, json.Unmarshal(r.Data, v), "%s", b)
}

// TestSystemRequests: PING and each kind answer as nats-server does, on
// the PING form and the server's own subject, with the monitoring data.
func TestSystemRequests(t *testing.T) {
	s := sysServer(t, func(o *Options) { o.ServerName = "natsd-req" })
	sys := connect(t, s, asUser("sys"))
	app := connect(t, s, asUser("app"))
	_, err := app.SubscribeSync("orders.>")
	assert.NilError(t, err)
	flush(t, app)
	appCID, err := app.GetClientID()
	assert.NilError(t, err)

	var st nsServerStatsMsg
	strictDecode(t, sysRequest(t, sys, "$SYS.REQ.SERVER.PING", nil), &st)
	assert.Equal(t, st.Server.Name, "natsd-req")
	assert.Equal(t, st.Stats.ActiveServers, 1)
	assert.Equal(t, st.Stats.Connections, 2)
	assert.Equal(t, st.Stats.ActiveAccounts, 2)
	assert.Assert(t, st.Stats.Mem > 0 && st.Stats.Cores > 0)
	strictDecode(t, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.STATSZ", map[string]any{"server_name": "natsd"}), &st)

	var id struct{ Name, Host, ID string }
	strictDecode(t, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.IDZ", nil), &id)
	assert.Equal(t, id.ID, s.ID())
	assert.Equal(t, id.Name, "natsd-req")

	for _, subj := range []string{"$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER." + s.ID() + ".VARZ"} {
		var v struct {
			ID            string `json:"server_id"`
			SystemAccount string `json:"system_account"`
			State         string `json:"state"`
		}
		apiData(t, s, sysRequest(t, sys, subj, map[string]any{"server_name": "natsd-req", "exact_match": true}), &v)
		assert.DeepEqual(t, v, struct {
			ID            string `json:"server_id"`
			SystemAccount string `json:"system_account"`
			State         string `json:"state"`
		}{s.ID(), "SYS", "listening"})
	}

	var cz struct {
		Conns []struct {
			CID     uint64   `json:"cid"`
			Account string   `json:"account"`
			User    string   `json:"authorized_user"`
			Subs    []string `json:"subscriptions_list"`
		} `json:"connections"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.CONNZ", map[string]any{"auth": true, "subscriptions": true, "acc": "APP"}), &cz)
	assert.Equal(t, len(cz.Conns), 1)
	assert.Equal(t, cz.Conns[0].CID, appCID)
	assert.Equal(t, cz.Conns[0].User, "app")
	assert.DeepEqual(t, cz.Conns[0].Subs, []string{"orders.>"})

	var sz struct {
		NumSubs uint32 `json:"num_subscriptions"`
		Total   int    `json:"total"`
		Subs    []struct {
			Account string `json:"account"`
			Subject string `json:"subject"`
			Cid     uint64 `json:"cid"`
		} `json:"subscriptions_list"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.SUBSZ", map[string]any{"subscriptions": true, "account": "APP", "test": "orders.new"}), &sz)
	assert.Equal(t, sz.Total, 1)
	assert.Equal(t, sz.Subs[0].Subject, "orders.>")
	assert.Equal(t, sz.Subs[0].Account, "APP")
	assert.Equal(t, sz.Subs[0].Cid, appCID)

	var hz struct {
		Status     string `json:"status"`
		StatusCode int    `json:"status_code"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.HEALTHZ", nil), &hz)
	assert.Equal(t, hz.Status, "ok")
	assert.Equal(t, hz.StatusCode, 200)

	var rz struct {
		NumRoutes int `json:"num_routes"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".ROUTEZ", nil), &rz)

	var az struct {
		Accounts []string `json:"accounts"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.ACCOUNTZ", nil), &az)
	assert.DeepEqual(t, az.Accounts, []string{"$G", "APP", "SYS"})

	var lz struct {
		State       string `json:"state"`
		Transitions []struct {
			To string `json:"to"`
		} `json:"transitions"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.LIFECYCLEZ", nil), &lz)
	assert.Equal(t, lz.State, "listening")
	assert.Equal(t, lz.Transitions[0].To, "listening")

	// A body that is not JSON is answered with a 400 error.
	var r nsAPIResponse
	m, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte("{"), 5*time.Second)
	assert.NilError(t, err)
	strictDecode(t, m.Data, &r)
	assert.Equal(t, r.Error.Code, 400)
	// A refused option is answered with a 500 error.
	strictDecode(t, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.CONNZ", map[string]any{"sort": "nope"}), &r)
	assert.DeepEqual(t, r.Error, &nsAPIError{Code: 500, Description: "invalid sorting option: nope"})
}

// TestSystemRequestFilters: a server that does not match a request's
// filters does not answer it. The requests are answered in order by one
// loop, so when the answer to an unfiltered request sent after a filtered
// one arrives first and alone, the filtered one got none.
func TestSystemRequestFilters(t *testing.T) {
	s := sysServer(t, func(o *Options) { o.ServerName = "natsd-f" })
	sys := connect(t, s, asUser("sys"))
	inbox := nats.NewInbox()
	sub, err := sys.SubscribeSync(inbox)
	assert.NilError(t, err)
	for _, f := range []map[string]any{
		{"server_name": "other"},
		{"server_name": "natsd", "exact_match": true},
		{"host": "10.1.1.1"},
		{"cluster": "east"},
		{"tags": []string{"az:1"}},
	} {
		body, err := json.Marshal(f)
		assert.NilError(t, err)
		for _, kind := range []string{"VARZ", "STATSZ", "CONNZ", "HEALTHZ"} {
			assert.NilError(t, sys.PublishRequest("$SYS.REQ.SERVER.PING."+kind, inbox, body))
		}
		assert.NilError(t, sys.PublishRequest("$SYS.REQ.SERVER.PING.IDZ", inbox, nil))
		var id struct{ Name, Host, ID string }
		strictDecode(t, next(t, sub).Data, &id)
		assert.Equal(t, id.Name, "natsd-f", "filter %v answered", f)
	}
	assert.NilError(t, sys.PublishRequest("$SYS.REQ.SERVER.PING.VARZ", inbox, []byte(`{"server_name":"sd-f"}`)))
	var v struct {
		Name string `json:"server_name"`
	}
	apiData(t, s, next(t, sub).Data, &v)
	assert.Equal(t, v.Name, "natsd-f", "a substring matches")
}

// TestKickAndLDM: KICK closes one client (reason Kicked), LDM sends it
// the lame-duck INFO; an unknown cid is an error in the envelope.
func TestKickAndLDM(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	ldm := make(chan struct{}, 1)
	closed := make(chan struct{})
	app := connect(t, s, asUser("app"),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	cid, err := app.GetClientID()
	assert.NilError(t, err)
	base := "$SYS.REQ.SERVER." + s.ID() + "."

	var r nsAPIResponse
	strictDecode(t, sysRequest(t, sys, base+"LDM", map[string]any{"cid": cid}), &r)
	assert.Assert(t, r.Error == nil && r.Data == nil, "%+v", r)
	<-ldm
	strictDecode(t, sysRequest(t, sys, base+"KICK", map[string]any{"cid": cid}), &r)
	assert.Assert(t, r.Error == nil, "%+v", r.Error)
	<-closed
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, c := range s.Closed() {
			if c.CID == cid {
				assert.Equal(t, c.Reason.String(), "Kicked")
				return poll.Success()
			}
		}
		return poll.Continue("waiting for the kicked client to be closed")
	})
	strictDecode(t, sysRequest(t, sys, base+"KICK", map[string]any{"cid": cid}), &r)
	assert.DeepEqual(t, r.Error, &nsAPIError{Code: 500, Description: "no such client or leafnode id"})
	strictDecode(t, sysRequest(t, sys, base+"LDM", map[string]any{"cid": 999}), &r)
	assert.DeepEqual(t, r.Error, &nsAPIError{Code: 500, Description: "no such client id"})
}

// TestLameDuckRequestOrder: the lame-duck request answers with the drain
// plan; a watcher in the system account then reads LAMEDUCK, the LIFECYCLE
// events of listening → lame_duck → shutting_down and SHUTDOWN, in that
// order, before its own connection is closed — the drain closes the other
// clients and leaves the system account's to the shutdown.
func TestLameDuckRequestOrder(t *testing.T) {
	s := sysServer(t, func(o *Options) {
		o.LameDuckDuration = 400 * time.Millisecond
		o.LameDuckGracePeriod = 100 * time.Millisecond
	})
	appClosed := make(chan struct{})
	connect(t, s, asUser("app"), nats.ClosedHandler(func(*nats.Conn) { close(appClosed) }))
	watcherClosed := make(chan struct{})
	sys := connect(t, s, asUser("sys"), nats.ClosedHandler(func(*nats.Conn) { close(watcherClosed) }))
	// A channel subscription keeps what arrived after the connection
	// closed (NextMsg would report the close instead).
	events := make(chan *nats.Msg, 64)
	_, err := sys.ChanSubscribe("$SYS.SERVER."+s.ID()+".>", events)
	assert.NilError(t, err)
	flush(t, sys)

	var plan struct {
		State         string        `json:"state"`
		Clients       int           `json:"clients"`
		SystemClients int           `json:"system_clients"`
		Start         time.Time     `json:"start"`
		GracePeriod   time.Duration `json:"grace_period"`
		Duration      time.Duration `json:"duration"`
		ClosesFrom    time.Time     `json:"closes_from"`
		ExpectedEnd   time.Time     `json:"expected_end"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER."+s.ID()+".LAMEDUCK", nil), &plan)
	assert.Equal(t, plan.State, "lame_duck")
	assert.Equal(t, plan.Clients, 1)
	assert.Equal(t, plan.SystemClients, 1)
	assert.Equal(t, plan.GracePeriod, 100*time.Millisecond)
	assert.Equal(t, plan.ClosesFrom, plan.Start.Add(100*time.Millisecond))
	assert.Assert(t, plan.ExpectedEnd.After(plan.ClosesFrom) && !plan.ExpectedEnd.After(plan.Start.Add(400*time.Millisecond)), "%+v", plan)

	want := []string{"LAMEDUCK", "LIFECYCLE listening->lame_duck", "LIFECYCLE lame_duck->shutting_down", "SHUTDOWN"}
	var got []string
	for len(got) < len(want) {
		var m *nats.Msg
		select {
		case m = <-events:
		case <-time.After(10 * time.Second):
			t.Fatalf("no event after %v", got)
		}
		kind := m.Subject[strings.LastIndex(m.Subject, ".")+1:]
		switch kind {
		case "STATSZ":
			continue
		case "LIFECYCLE":
			var ev nsLifecycleEvent
			strictDecode(t, m.Data, &ev)
			assert.Equal(t, ev.Type, "io.natsd.server.advisory.v1.lifecycle")
			kind += " " + ev.From + "->" + ev.To
		case "LAMEDUCK", "SHUTDOWN":
			var si nsServerInfo
			strictDecode(t, m.Data, &si)
			assert.Equal(t, si.ID, s.ID())
		}
		got = append(got, kind)
	}
	assert.DeepEqual(t, got, want)
	<-appClosed
	<-watcherClosed
	s.WaitForShutdown()

	// Asked again, once the server is stopped: refused.
	_, err = (sysAdmin{s}).EnterLameDuck("test")
	assert.ErrorContains(t, err, "the server is stopped")
}

// TestSystemAccountIsolation: a client of another account that
// subscribes to $SYS.> gets nothing of the events the system account's
// watcher gets, and its request to $SYS.REQ.SERVER.PING gets the
// no-responders status.
func TestSystemAccountIsolation(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	watch, err := sys.SubscribeSync("$SYS.>")
	assert.NilError(t, err)
	flush(t, sys)
	app := connect(t, s, asUser("app"))
	spy, err := app.SubscribeSync("$SYS.>")
	assert.NilError(t, err)
	flush(t, app)
	// Connect and disconnect a third client; the watcher sees it.
	other := connect(t, s, asUser("app"))
	other.Close()
	for {
		m := next(t, watch)
		if strings.HasSuffix(m.Subject, ".DISCONNECT") {
			break
		}
	}
	// Every event published so far was queued to each of its receivers in
	// one delivery, before the watcher got it; the spy's PONG is queued
	// after that, so its pending count is exact.
	flush(t, app)
	assert.Equal(t, pending(t, spy), 0)
	assert.NilError(t, spy.Unsubscribe()) // else the spy would answer
	_, err = app.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second)
	assert.Assert(t, errors.Is(err, nats.ErrNoResponders), "%v", err)
	_, err = app.Request("$SYS.REQ.SERVER."+s.ID()+".VARZ", nil, 5*time.Second)
	assert.Assert(t, errors.Is(err, nats.ErrNoResponders), "%v", err)
}

// TestNoSystemAccountNoResponders: with the system account turned off nothing answers,
// and no internal subscription exists.
func TestNoSystemAccountNoResponders(t *testing.T) {
	s := startServer(t, func(o *Options) { o.NoSystemAccount = true })
	nc := connect(t, s)
	_, err := nc.Request("$SYS.REQ.SERVER.PING", nil, 5*time.Second)
	assert.Assert(t, errors.Is(err, nats.ErrNoResponders), "%v", err)
	assert.Assert(t, s.sys.c.Load() == nil)
}

// BenchmarkPubSubSystemAccount measures one publisher and one subscriber
// of 128-byte messages on a server without a system account, with one,
// and with one whose watcher listens to every $SYS event. The system
// account's client adds nothing to the publish path, so the three should
// be alike (see docs/performance.md).
func BenchmarkPubSubSystemAccount(b *testing.B) {
	for _, tc := range []struct {
		name    string
		noSys   bool
		watcher bool
	}{{"no-system-account", true, false}, {"system-account", false, false}, {"system-account-watched", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := startServer(b, func(o *Options) {
				o.NoSystemAccount = tc.noSys
				if !tc.noSys {
					o.Accounts = account.Config{Accounts: []account.Account{{Name: "SYS"}}}
					o.SystemAccount = "SYS"
					o.Auth.Users = []auth.User{{Name: "sys", Password: "pw", Account: "SYS"}, {Name: "app", Password: "pw"}}
				}
			})
			opts := []nats.Option{}
			if !tc.noSys {
				opts = append(opts, asUser("app"))
			}
			if tc.watcher {
				w := connect(b, s, asUser("sys"))
				_, err := w.Subscribe("$SYS.>", func(*nats.Msg) {})
				assert.NilError(b, err)
				assert.NilError(b, w.Flush())
			}
			pub, subc := connect(b, s, opts...), connect(b, s, opts...)
			done := make(chan struct{})
			n := 0
			_, err := subc.Subscribe("bench", func(*nats.Msg) {
				if n++; n == b.N {
					close(done)
				}
			})
			assert.NilError(b, err)
			assert.NilError(b, subc.Flush())
			msg := make([]byte, 128)
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				if err := pub.Publish("bench", msg); err != nil {
					b.Fatal(err)
				}
			}
			assert.NilError(b, pub.Flush())
			<-done
		})
	}
}

// TestSystemAccountAcrossReload: a reload that changes the accounts keeps
// the system account, so its requests are still answered, and the reload
// is published as a LIFECYCLE event.
func TestSystemAccountAcrossReload(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	events := make(chan *nats.Msg, 16)
	_, err := sys.ChanSubscribe("$SYS.SERVER."+s.ID()+".LIFECYCLE", events)
	assert.NilError(t, err)
	flush(t, sys)
	o := s.Options()
	o.Accounts.Accounts = append(o.Accounts.Accounts, account.Account{Name: "NEW"})
	assert.NilError(t, s.Reload(&o, "test"))
	var ev nsLifecycleEvent
	select {
	case m := <-events:
		strictDecode(t, m.Data, &ev)
	case <-time.After(10 * time.Second):
		t.Fatal("no LIFECYCLE event for the reload")
	}
	assert.Equal(t, ev.Event, "reload")
	assert.Equal(t, ev.Cause, "test")
	var az struct {
		Accounts []string `json:"accounts"`
	}
	apiData(t, s, sysRequest(t, sys, "$SYS.REQ.SERVER.PING.ACCOUNTZ", nil), &az)
	assert.DeepEqual(t, az.Accounts, []string{"$G", "APP", "SYS", "NEW"})
}

// TestSystemRequestGzip: a requester that accepts gzip gets the answer
// compressed, with Content-Encoding; one that asks for snappy gets it
// plain.
func TestSystemRequestGzip(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	req := nats.NewMsg("$SYS.REQ.SERVER.PING.HEALTHZ")
	req.Header.Set("Accept-Encoding", "gzip")
	m, err := sys.RequestMsg(req, 5*time.Second)
	assert.NilError(t, err)
	assert.Equal(t, m.Header.Get("Content-Encoding"), "gzip")
	zr, err := gzip.NewReader(bytes.NewReader(m.Data))
	assert.NilError(t, err)
	body, err := io.ReadAll(zr)
	assert.NilError(t, err)
	var hz struct {
		Status string `json:"status"`
	}
	apiData(t, s, body, &hz)
	assert.Equal(t, hz.Status, "ok")
	req.Header.Set("Accept-Encoding", "snappy")
	m, err = sys.RequestMsg(req, 5*time.Second)
	assert.NilError(t, err)
	assert.Equal(t, m.Header.Get("Content-Encoding"), "")
	apiData(t, s, m.Data, &hz)
}

// TestStatszBroadcast: once someone listens, STATSZ is published on the
// server's subject (the first 250 ms after start, then backing off; the
// intervals are checked in package system).
func TestStatszBroadcast(t *testing.T) {
	s := sysServer(t, nil)
	sys := connect(t, s, asUser("sys"))
	sub, err := sys.SubscribeSync("$SYS.SERVER.*.STATSZ")
	assert.NilError(t, err)
	m := next(t, sub)
	assert.Equal(t, m.Subject, "$SYS.SERVER."+s.ID()+".STATSZ")
	var st nsServerStatsMsg
	strictDecode(t, m.Data, &st)
	assert.Equal(t, st.Stats.ActiveServers, 1)
	assert.Equal(t, st.Server.ID, s.ID())
}
