package monitor

import (
	"net/http"
	"testing"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// accountsFake is a fake source with configured accounts.
type accountsFake struct {
	*fakeSource
	cfg  account.Config
	accs *conn.Accounts
}

func (f accountsFake) Accounts() *conn.Accounts      { return f.accs }
func (f accountsFake) AccountConfig() account.Config { return f.cfg }

func newAccountsFake(t *testing.T) accountsFake {
	t.Helper()
	cfg := account.Config{Accounts: []account.Account{
		{Name: "APP", Exports: []account.Export{
			{Kind: account.Stream, Subject: "events.>"},
			{Kind: account.Service, Subject: "svc.>", Accounts: []string{"OTHER"}},
			{Kind: account.Service, Subject: "feed", Response: account.Streamed},
		}},
		{Name: "OTHER", Imports: []account.Import{
			{Kind: account.Stream, Account: "APP", Subject: "events.>", Prefix: "app"},
			{Kind: account.Service, Account: "APP", Subject: "svc.echo", To: "echo"},
		}},
		{Name: "SYS"},
	}}
	accs, err := conn.NewAccounts(cfg, "SYS", nil, nil, nil)
	assert.NilError(t, err)
	// A subscriber of OTHER to APP's stream: its shadow is in APP.
	_, err = accs.Lookup("OTHER").SubscribeInternal("app.events.x", "1", func(_, _, _, _ []byte) {})
	assert.NilError(t, err)
	f := newFake()
	f.cfg.SystemAccount = "SYS"
	a := newSnap(1)
	a.Account = "APP"
	f.open = []conn.Snapshot{a}
	return accountsFake{fakeSource: f, cfg: cfg, accs: accs}
}

// newSnap is an open connection's snapshot.
func newSnap(cid uint64) conn.Snapshot { return snap(cid) }

// TestAccountzListsTheConfiguredAccounts: /accountz names every account,
// and ?acc= details one with its exports and imports as nats-server shows
// them.
func TestAccountzListsTheConfiguredAccounts(t *testing.T) {
	m := newMonitor(newAccountsFake(t))
	var list Accountz
	getJSON(t, m, AccountzPath, http.StatusOK, &list)
	assert.DeepEqual(t, list.Accounts, []string{"$G", "APP", "OTHER", "SYS"})
	assert.Equal(t, list.SystemAccount, "SYS")

	var app, other, sys Accountz
	getJSON(t, m, AccountzPath+"?acc=APP", http.StatusOK, &app)
	assert.Equal(t, app.Account.ClientCnt, 1)
	assert.Equal(t, app.Account.NameTag, "APP")
	assert.DeepEqual(t, app.Account.Exports, []ExtExport{
		{Subject: "events.>", Type: "stream"},
		{Subject: "svc.>", Type: "service", ResponseType: "Singleton", ApprovedAccounts: []string{"OTHER"}},
		{Subject: "feed", Type: "service", ResponseType: "Streamed"},
	})
	assert.Equal(t, app.Account.SubCnt, uint32(2), "the shadow of OTHER's subscriber and the responses of APP's services")
	getJSON(t, m, AccountzPath+"?acc=OTHER", http.StatusOK, &other)
	assert.DeepEqual(t, other.Account.Imports, []ExtImport{
		{Subject: "events.>", Account: "APP", LocalSubject: "app.events.>", Type: "stream"},
		{Subject: "svc.echo", Account: "APP", To: "echo", LocalSubject: "echo", Type: "service"},
	})
	getJSON(t, m, AccountzPath+"?acc=SYS", http.StatusOK, &sys)
	assert.Assert(t, sys.Account.IsSystem)
	code, body := get(t, m, AccountzPath+"?acc=NOPE")
	assert.Equal(t, code, http.StatusBadRequest)
	assert.Equal(t, string(body), "Account NOPE does not exist")
}

// TestSubszCountsEveryAccount: /subsz counts the subscriptions of every
// account's index (or of one), refuses a test subject that is not a
// publish subject and bad paging parameters.
func TestSubszCountsEveryAccount(t *testing.T) {
	m := newMonitor(newAccountsFake(t))
	for _, tc := range []struct {
		path string
		code int
		subs uint32
	}{
		{SubszPath, http.StatusOK, 4},
		{SubszPath + "?acc=APP", http.StatusOK, 2},
		{SubszPath + "?acc=SYS", http.StatusOK, 0},
		{SubszPath + "?subs=1&test=a.*", http.StatusBadRequest, 0},
		{SubszPath + "?limit=-1", http.StatusBadRequest, 0},
		{SubszPath + "?subs=maybe", http.StatusBadRequest, 0},
	} {
		var sz Subsz
		getJSON(t, m, tc.path, tc.code, &sz)
		assert.Equal(t, sz.NumSubs, tc.subs, tc.path)
		if tc.code == http.StatusOK {
			assert.Equal(t, sz.Limit, DefaultSubListSize)
		}
	}
}
