package monitor

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/natsd/natsd/conn"
)

// globalAccount is the default account, which /connz does not name.
const globalAccount = "$G"

// DefaultConnListSize is how many connections /connz lists when no limit
// is given, as in nats-server.
const DefaultConnListSize = 1024

// Connz is the /connz answer, with nats-server's field names.
type Connz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumConns int         `json:"num_connections"`
	Total    int         `json:"total"`
	Offset   int         `json:"offset"`
	Limit    int         `json:"limit"`
	Conns    []*ConnInfo `json:"connections"`
}

// ConnInfo describes one connection, with nats-server's field names. Stop
// and Reason are set only for a closed connection; its Uptime and Idle are
// measured at the close.
type ConnInfo struct {
	CID          uint64     `json:"cid"`
	Kind         string     `json:"kind,omitempty"`
	Type         string     `json:"type,omitempty"`
	IP           string     `json:"ip"`
	Port         int        `json:"port"`
	Start        time.Time  `json:"start"`
	LastActivity time.Time  `json:"last_activity"`
	Stop         *time.Time `json:"stop,omitempty"`
	Reason       string     `json:"reason,omitempty"`
	RTT          string     `json:"rtt,omitempty"`
	Uptime       string     `json:"uptime"`
	Idle         string     `json:"idle"`
	PendingBytes int64      `json:"pending_bytes"`
	InMsgs       int64      `json:"in_msgs"`
	OutMsgs      int64      `json:"out_msgs"`
	InBytes      int64      `json:"in_bytes"`
	OutBytes     int64      `json:"out_bytes"`
	NumSubs      uint32     `json:"subscriptions"`
	Name         string     `json:"name,omitempty"`
	Lang         string     `json:"lang,omitempty"`
	Version      string     `json:"version,omitempty"`
	// AuthorizedUser and Account are shown with auth=true (the global
	// account is left out, as in nats-server).
	AuthorizedUser string   `json:"authorized_user,omitempty"`
	Account        string   `json:"account,omitempty"`
	Subs           []string `json:"subscriptions_list,omitempty"`

	rtt time.Duration // for sorting by rtt
	// snap is the snapshot the entry was made from, while Connz builds it.
	snap *conn.Snapshot
}

// ConnState selects which connections /connz lists.
type ConnState int

const (
	// ConnOpen lists the registered (open or closing) connections.
	ConnOpen ConnState = iota
	// ConnClosed lists the kept closed connections.
	ConnClosed
	// ConnAny lists both.
	ConnAny
)

// ConnzOptions are /connz's query parameters.
type ConnzOptions struct {
	Sort   SortOpt   // "" sorts by cid
	Offset int       // >= 0
	Limit  int       // > 0; 0 means DefaultConnListSize
	State  ConnState // which connections
	CID    uint64    // > 0: only this connection
	Subs   bool      // include subscriptions_list
	Auth   bool      // include authorized_user and account
	// User and Account, when set, keep only the connections of that
	// authorized user or account.
	User, Account string
}

// ParseConnzOptions reads /connz's query parameters: sort, offset, limit,
// state (open, closed, any or all), cid, subs (a boolean, or "detail",
// read as true), auth, user and acc. Unknown parameters are ignored. An invalid value is an
// error naming the parameter.
func ParseConnzOptions(q url.Values) (ConnzOptions, error) {
	var o ConnzOptions
	o.Sort = SortOpt(q.Get("sort"))
	if !o.Sort.IsValid() {
		return o, fmt.Errorf("invalid sorting option: %q (valid: %s)", string(o.Sort), strings.Join(sortNames(), ", "))
	}
	var err error
	if o.Offset, err = nonNegative(q, "offset"); err != nil {
		return o, err
	}
	if o.Limit, err = nonNegative(q, "limit"); err != nil {
		return o, err
	}
	switch s := strings.ToLower(q.Get("state")); s {
	case "", "open":
		o.State = ConnOpen
	case "closed":
		o.State = ConnClosed
	case "any", "all":
		o.State = ConnAny
	default:
		return o, fmt.Errorf("invalid state: %q (valid: open, closed, any)", q.Get("state"))
	}
	if s := q.Get("cid"); s != "" {
		if o.CID, err = strconv.ParseUint(s, 10, 64); err != nil {
			return o, fmt.Errorf("invalid cid: %q is not a connection id", s)
		}
	}
	switch s := q.Get("subs"); strings.ToLower(s) {
	case "":
	case "detail":
		o.Subs = true
	default:
		if o.Subs, err = strconv.ParseBool(s); err != nil {
			return o, fmt.Errorf("invalid subs: %q is not a boolean", s)
		}
	}
	if s := q.Get("auth"); s != "" {
		if o.Auth, err = strconv.ParseBool(s); err != nil {
			return o, fmt.Errorf("invalid auth: %q is not a boolean", s)
		}
	}
	o.User, o.Account = q.Get("user"), q.Get("acc")
	if (o.Sort == ByStop || o.Sort == ByReason) && o.State != ConnClosed {
		return o, fmt.Errorf("sort by %s is only valid with state=closed", o.Sort)
	}
	return o, nil
}

// nonNegative reads an optional integer parameter that must not be
// negative.
func nonNegative(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s: %q is not a non-negative integer", name, s)
	}
	return n, nil
}

// Connz returns the connections o selects, sorted and paged. Open
// connections are snapshotted one by one; each snapshot holds only that
// connection's lock, briefly, and copies none of its subscriptions. Only
// with subs=1, and only for the connections on the page returned, are the
// subscriptions listed (under the connection's subscription lock, which no
// delivery takes).
func (m *Monitor) Connz(o ConnzOptions) *Connz {
	now := m.now()
	c := &Connz{
		ID:     m.src.Config().ServerID,
		Now:    now.UTC(),
		Offset: o.Offset,
		Limit:  o.Limit,
		Conns:  []*ConnInfo{},
	}
	if c.Limit == 0 {
		c.Limit = DefaultConnListSize
	}
	var snaps []conn.Snapshot
	if o.State == ConnOpen || o.State == ConnAny {
		snaps = append(snaps, m.src.Open()...)
	}
	if o.State == ConnClosed || o.State == ConnAny {
		snaps = append(snaps, m.src.Closed()...)
	}
	infos := make([]*ConnInfo, 0, len(snaps))
	for i := range snaps {
		if o.CID != 0 && snaps[i].CID != o.CID ||
			o.User != "" && snaps[i].AuthorizedUser != o.User ||
			o.Account != "" && snaps[i].Account != o.Account {
			continue
		}
		ci := newConnInfo(&snaps[i], now)
		if o.Auth {
			ci.AuthorizedUser = snaps[i].AuthorizedUser
			if a := snaps[i].Account; a != globalAccount {
				ci.Account = a
			}
		}
		infos = append(infos, ci)
	}
	sortConns(infos, o.Sort, now)
	c.Total = len(infos)
	lo := min(c.Offset, len(infos))
	hi := lo + min(c.Limit, len(infos)-lo)
	c.Conns = append(c.Conns, infos[lo:hi]...)
	c.NumConns = len(c.Conns)
	if o.Subs {
		for _, ci := range c.Conns {
			if list := ci.snap.SubjectList(); len(list) > 0 {
				slices.Sort(list)
				ci.Subs = list
			}
		}
	}
	for _, ci := range infos {
		ci.snap = nil
	}
	return c
}

// newConnInfo turns a snapshot into a /connz entry, without its
// subscriptions list. A closed connection's uptime and idle time are
// measured at its close, as nats-server does.
func newConnInfo(s *conn.Snapshot, now time.Time) *ConnInfo {
	ci := &ConnInfo{
		CID:          s.CID,
		Kind:         "Client",
		Type:         "nats",
		IP:           s.Host,
		Port:         s.Port,
		Start:        s.Start.UTC(),
		LastActivity: s.LastActivity.UTC(),
		RTT:          formatRTT(s.RTT),
		PendingBytes: s.PendingBytes,
		InMsgs:       s.InMsgs,
		OutMsgs:      s.OutMsgs,
		InBytes:      s.InBytes,
		OutBytes:     s.OutBytes,
		NumSubs:      uint32(s.NumSubs),
		Name:         s.Name,
		Lang:         s.Lang,
		Version:      s.Version,
		rtt:          s.RTT,
		snap:         s,
	}
	at := now
	if !s.Stop.IsZero() {
		stop := s.Stop.UTC()
		ci.Stop = &stop
		ci.Reason = s.Reason.String()
		at = s.Stop
	}
	ci.Uptime = formatUptime(at.Sub(s.Start))
	ci.Idle = formatUptime(at.Sub(s.LastActivity))
	return ci
}

func (m *Monitor) handleConnz(w http.ResponseWriter, r *http.Request) {
	m.count(ConnzPath)
	o, err := ParseConnzOptions(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m.Connz(o))
}
