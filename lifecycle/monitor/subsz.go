package monitor

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/conn/subject"
)

// DefaultSubListSize is how many subscriptions /subsz lists when no limit
// is given, as in nats-server.
const DefaultSubListSize = 1024

// SublistStats are the subject index's counters, with nats-server's field
// names. natsd's index counts its subscriptions; the insert, remove, match
// and cache counters of nats-server's sublist it does not keep (they would
// cost the publish path), so they are reported as zero.
type SublistStats struct {
	NumSubs      uint32  `json:"num_subscriptions"`
	NumCache     uint32  `json:"num_cache"`
	NumInserts   uint64  `json:"num_inserts"`
	NumRemoves   uint64  `json:"num_removes"`
	NumMatches   uint64  `json:"num_matches"`
	CacheHitRate float64 `json:"cache_hit_rate"`
	MaxFanout    uint32  `json:"max_fanout"`
	AvgFanout    float64 `json:"avg_fanout"`
}

// Subsz is the /subsz answer (and the data of the SUBSZ request), with
// nats-server's field names.
type Subsz struct {
	ID  string    `json:"server_id"`
	Now time.Time `json:"now"`
	SublistStats
	Total  int         `json:"total"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
	Subs   []SubDetail `json:"subscriptions_list,omitempty"`
}

// SubDetail is one subscription in /subsz.
type SubDetail struct {
	Account    string `json:"account,omitempty"`
	AccountTag string `json:"account_tag,omitempty"`
	Subject    string `json:"subject"`
	Queue      string `json:"qgroup,omitempty"`
	Sid        string `json:"sid"`
	Msgs       int64  `json:"msgs"`
	Max        int64  `json:"max,omitempty"`
	Cid        uint64 `json:"cid"`
}

// SubszOptions are /subsz's parameters, with the JSON names of
// nats-server's SUBSZ request.
type SubszOptions struct {
	Offset        int    `json:"offset"`
	Limit         int    `json:"limit"`
	Subscriptions bool   `json:"subscriptions"`
	Account       string `json:"account,omitempty"`
	Test          string `json:"test,omitempty"`
}

// ParseSubszOptions reads /subsz's query parameters: subs (a boolean, or
// "detail"), offset, limit, test (a literal subject the listed
// subscriptions must match) and acc.
func ParseSubszOptions(q map[string][]string) (SubszOptions, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var o SubszOptions
	switch s := get("subs"); strings.ToLower(s) {
	case "":
	case "detail":
		o.Subscriptions = true
	default:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return o, fmt.Errorf("invalid subs: %q is not a boolean", s)
		}
		o.Subscriptions = b
	}
	for _, p := range []struct {
		name string
		to   *int
	}{{"offset", &o.Offset}, {"limit", &o.Limit}} {
		if s := get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return o, fmt.Errorf("invalid %s: %q is not a non-negative integer", p.name, s)
			}
			*p.to = n
		}
	}
	o.Test, o.Account = get("test"), get("acc")
	return o, nil
}

// Subsz returns the subscription counts of every account (or of
// o.Account), and with o.Subscriptions the clients' subscriptions, paged
// and, with o.Test, only those a message on that subject would reach.
// Each connection's subscriptions are copied under its subscription lock,
// which no delivery takes.
func (m *Monitor) Subsz(o SubszOptions) (*Subsz, error) {
	if o.Test != "" && !subject.ValidLiteralSubject(o.Test) {
		return nil, fmt.Errorf("invalid test subject, must be valid publish subject: %s", o.Test)
	}
	sz := &Subsz{ID: m.src.Config().ServerID, Now: m.now().UTC(), Offset: o.Offset, Limit: o.Limit}
	if sz.Limit <= 0 {
		sz.Limit = DefaultSubListSize
	}
	if as, ok := m.src.(AccountSource); ok {
		as.Accounts().Range(func(a *conn.Account) bool {
			if o.Account == "" || a.Name() == o.Account {
				sz.NumSubs += uint32(a.Index.Count())
			}
			return true
		})
	} else if o.Account == "" || o.Account == GlobalAccount {
		sz.NumSubs = uint32(m.src.NumSubscriptions())
	}
	if !o.Subscriptions {
		return sz, nil
	}
	var test *subject.Index[struct{}]
	var details []SubDetail
	for _, s := range m.src.Open() {
		acc := s.Account
		if acc == "" {
			acc = GlobalAccount
		}
		if o.Account != "" && acc != o.Account {
			continue
		}
		for _, sub := range s.Subs() {
			if o.Test != "" {
				if test == nil {
					test = subject.NewIndex[struct{}]()
				}
				if !matches(test, sub.Subject, o.Test) {
					continue
				}
			}
			details = append(details, SubDetail{
				Account: acc, AccountTag: acc, Subject: sub.Subject, Queue: sub.Queue,
				Sid: sub.SID, Msgs: sub.Msgs, Max: sub.Max, Cid: s.CID,
			})
		}
	}
	slices.SortFunc(details, func(a, b SubDetail) int {
		return cmp.Or(cmp.Compare(a.Cid, b.Cid), strings.Compare(a.Sid, b.Sid))
	})
	sz.Total = len(details)
	lo := min(sz.Offset, len(details))
	hi := lo + min(sz.Limit, len(details)-lo)
	sz.Subs = details[lo:hi]
	return sz, nil
}

// matches reports whether a message on the literal subject lit reaches a
// subscription on pattern, by asking a scratch index.
func matches(ix *subject.Index[struct{}], pattern, lit string) bool {
	if ix.Insert(pattern, "", struct{}{}) != nil {
		return false
	}
	defer ix.Remove(pattern, "", struct{}{})
	return !ix.Match(lit).Empty()
}

func (m *Monitor) handleSubsz(w http.ResponseWriter, r *http.Request) {
	m.count(SubszPath)
	o, err := ParseSubszOptions(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	sz, err := m.Subsz(o)
	if err != nil {
		badRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sz)
}
