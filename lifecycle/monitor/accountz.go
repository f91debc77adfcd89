package monitor

import (
	"fmt"
	"net/http"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn"
)

// GlobalAccount is the name of the default account, as nats-server names
// it.
const GlobalAccount = account.Global

// AccountSource is what /accountz and /subsz read from a server with
// accounts: the accounts at run time (their subject indexes) and their
// configuration (exports and imports). A [Source] that does not implement
// it has the global account and the system account named in its Config
// only. Like Source, its methods must be safe from any goroutine and must
// not block on the server's lifecycle.
type AccountSource interface {
	Accounts() *conn.Accounts
	AccountConfig() account.Config
}

// Accountz is the /accountz answer: the names of the accounts, or one
// account's detail with ?acc=NAME.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo is one account's detail in /accountz, with nats-server's
// field names (those of JWT accounts, revocations and mappings are left
// out: natsd has none).
type AccountInfo struct {
	AccountName string        `json:"account_name"`
	LastUpdate  time.Time     `json:"update_time"`
	IsSystem    bool          `json:"is_system,omitempty"`
	Expired     bool          `json:"expired"`
	Complete    bool          `json:"complete"`
	JetStream   bool          `json:"jetstream_enabled"`
	LeafCnt     int           `json:"leafnode_connections"`
	ClientCnt   int           `json:"client_connections"`
	SubCnt      uint32        `json:"subscriptions"`
	Exports     []ExtExport   `json:"exports,omitempty"`
	Imports     []ExtImport   `json:"imports,omitempty"`
	NameTag     string        `json:"name_tag,omitempty"`
	Sublist     *SublistStats `json:"sublist_stats,omitempty"`
}

// ExtExport is one export of an account in /accountz.
type ExtExport struct {
	Subject           string        `json:"subject"`
	Type              string        `json:"type"`
	ResponseType      string        `json:"response_type,omitempty"`
	ResponseThreshold time.Duration `json:"response_threshold,omitempty"`
	ApprovedAccounts  []string      `json:"approved_accounts,omitempty"`
}

// ExtImport is one import of an account in /accountz.
type ExtImport struct {
	Subject      string `json:"subject"`
	Account      string `json:"account"`
	To           string `json:"to,omitempty"`
	LocalSubject string `json:"local_subject,omitempty"`
	Type         string `json:"type"`
	Invalid      bool   `json:"invalid"`
	Share        bool   `json:"share"`
	Tracking     bool   `json:"tracking"`
}

// responseTypes are nats-server's names of the service response types.
var responseTypes = map[account.ResponseType]string{
	account.Singleton: "Singleton",
	account.Streamed:  "Streamed",
	account.Chunked:   "Chunked",
}

// Accountz returns the /accountz answer for acc ("" for the list), or the
// error nats-server gives for an account that does not exist.
func (m *Monitor) Accountz(acc string) (*Accountz, error) {
	cfg := m.src.Config()
	a := &Accountz{ID: cfg.ServerID, Now: m.now().UTC(), SystemAccount: cfg.SystemAccount}
	as, ok := m.src.(AccountSource)
	if !ok {
		return m.accountzWithout(a, acc)
	}
	accs := as.Accounts()
	if acc == "" {
		a.Accounts = []string{}
		accs.Range(func(x *conn.Account) bool {
			a.Accounts = append(a.Accounts, x.Name())
			return true
		})
		return a, nil
	}
	x := accs.Lookup(acc)
	if x == nil {
		return nil, fmt.Errorf("Account %s does not exist", acc)
	}
	info := &AccountInfo{
		AccountName: acc,
		LastUpdate:  cfg.LoadTime.UTC(),
		IsSystem:    x == accs.System(),
		Complete:    true,
		SubCnt:      uint32(x.Index.Count()),
		NameTag:     acc,
		Sublist:     &SublistStats{NumSubs: uint32(x.Index.Count())},
	}
	for _, s := range m.src.Open() {
		if s.Account == acc {
			info.ClientCnt++
		}
	}
	if ac := accountConfig(as).Lookup(acc); ac != nil {
		info.Exports, info.Imports = extExports(ac), extImports(ac)
	}
	a.Account = info
	return a, nil
}

// accountzWithout answers for a source without accounts of its own.
func (m *Monitor) accountzWithout(a *Accountz, acc string) (*Accountz, error) {
	cfg := m.src.Config()
	if acc == "" {
		a.Accounts = []string{GlobalAccount}
		if cfg.SystemAccount != "" {
			a.Accounts = append(a.Accounts, cfg.SystemAccount)
		}
		return a, nil
	}
	info := &AccountInfo{AccountName: acc, LastUpdate: m.src.StartTime().UTC(), Complete: true}
	switch {
	case acc == GlobalAccount:
		info.ClientCnt = m.src.NumClients()
		info.SubCnt = uint32(m.src.NumSubscriptions())
	case acc == cfg.SystemAccount:
		info.IsSystem = true
	default:
		return nil, fmt.Errorf("Account %s does not exist", acc)
	}
	a.Account = info
	return a, nil
}

// accountConfig returns the source's account configuration, addressable.
func accountConfig(as AccountSource) *account.Config {
	c := as.AccountConfig()
	return &c
}

func extExports(ac *account.Account) []ExtExport {
	var out []ExtExport
	for _, e := range ac.Exports {
		x := ExtExport{Subject: e.Subject, Type: e.Kind.String(), ApprovedAccounts: e.Accounts}
		if e.Kind == account.Service {
			x.ResponseType, x.ResponseThreshold = responseTypes[e.Response], e.Threshold
		}
		out = append(out, x)
	}
	return out
}

func extImports(ac *account.Account) []ExtImport {
	var out []ExtImport
	for _, im := range ac.Imports {
		x := ExtImport{Subject: im.Subject, Account: im.Account, LocalSubject: im.LocalSubject(), Type: im.Kind.String()}
		if im.Kind == account.Service {
			x.To, x.Share = im.LocalSubject(), im.Share
		}
		out = append(out, x)
	}
	return out
}

func (m *Monitor) handleAccountz(w http.ResponseWriter, r *http.Request) {
	m.count(AccountzPath)
	a, err := m.Accountz(r.URL.Query().Get("acc"))
	if err != nil {
		// nats-server answers an unknown account with its error as plain
		// text.
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, a)
}
