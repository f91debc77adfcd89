package system

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/natsd/natsd/lifecycle/monitor"
)

// handlers answer each kind of [Requests], on the work loop.
var handlers = map[string]func(*Client, *inMsg){
	"IDZ":        (*Client).idzReq,
	"STATSZ":     (*Client).statszReq,
	"VARZ":       (*Client).varzReq,
	"SUBSZ":      (*Client).subszReq,
	"CONNZ":      (*Client).connzReq,
	"ROUTEZ":     (*Client).routezReq,
	"ACCOUNTZ":   (*Client).accountzReq,
	"HEALTHZ":    (*Client).healthzReq,
	"KICK":       (*Client).kickReq,
	"LDM":        (*Client).ldmReq,
	"LIFECYCLEZ": (*Client).lifecyclezReq,
	"LAMEDUCK":   (*Client).lameDuckReq,
}

// apiError is a request's failure with its status code.
type apiError struct {
	code int
	err  error
}

func (e *apiError) Error() string { return e.err.Error() }

// zReq answers a request in the {server, data, error} envelope: the body,
// if any, is decoded into opts (a 400 error if it is not JSON), a server
// the filter does not match stays silent, and data builds the answer (a
// 500 error, or the code of an [apiError]). An answer goes gzip-compressed
// to a requester that accepts gzip (and not snappy or s2, which natsd does
// not compress: those get it plain, which every client reads).
func (c *Client) zReq(m *inMsg, opts any, filter *EventFilterOptions, data func() (any, error)) {
	if m.reply == "" {
		return
	}
	resp := &ServerAPIResponse{Server: &ServerInfo{}}
	var err error
	status := 0
	if len(m.payload) > 0 {
		if err = json.Unmarshal(m.payload, opts); err != nil {
			status = http.StatusBadRequest
		} else if !c.matches(filter) {
			return
		}
	}
	if err == nil {
		if resp.Data, err = data(); err != nil {
			status = http.StatusInternalServerError
			var ae *apiError
			if errors.As(err, &ae) {
				status = ae.code
			}
		}
	}
	if err != nil {
		resp.Data = nil
		resp.Error = &APIError{Code: status, Description: err.Error()}
	}
	c.send(&outMsg{subj: m.reply, si: resp.Server, v: resp, gzip: err == nil && acceptsGzip(m.hdr)})
}

// matches reports whether this server answers a request with filter f.
// natsd has no tags and no JetStream domain, so a filter on either does
// not match.
func (c *Client) matches(f *EventFilterOptions) bool {
	if f == nil {
		return true
	}
	name, host, cluster := c.cfg.Name, c.cfg.Host, c.cfg.Cluster
	if f.ExactMatch {
		if f.Name != "" && f.Name != name || f.Host != "" && f.Host != host || f.Cluster != "" && f.Cluster != cluster {
			return false
		}
	} else if f.Name != "" && !strings.Contains(name, f.Name) ||
		f.Host != "" && !strings.Contains(host, f.Host) ||
		f.Cluster != "" && !strings.Contains(cluster, f.Cluster) {
		return false
	}
	return len(f.Tags) == 0 && f.Domain == ""
}

// acceptsGzip reports whether a request's Accept-Encoding asks for gzip
// and not for snappy or s2 (which take precedence in nats-server's order).
func acceptsGzip(hdr []byte) bool {
	if len(hdr) == 0 {
		return false
	}
	for _, line := range strings.Split(string(hdr), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "Accept-Encoding") {
			continue
		}
		v = strings.ToLower(v)
		return strings.Contains(v, "gzip") && !strings.Contains(v, "snappy") && !strings.Contains(v, "s2")
	}
	return false
}

// idzReq answers the bare server id, with no envelope and no filter.
func (c *Client) idzReq(m *inMsg) {
	if m.reply == "" {
		return
	}
	c.send(&outMsg{subj: m.reply, v: &ServerID{Name: c.cfg.Name, Host: c.cfg.Host, ID: c.cfg.ID}})
}

// statszReq answers $SYS.REQ.SERVER.PING and STATSZ with the STATSZ
// message; without a reply subject it publishes it on the broadcast
// subject instead.
func (c *Client) statszReq(m *inMsg) {
	reply := m.reply
	if reply == "" {
		reply = serverSubject(c.cfg.ID, "STATSZ")
	}
	if len(m.payload) > 0 {
		var f EventFilterOptions
		if err := json.Unmarshal(m.payload, &f); err != nil {
			resp := &ServerAPIResponse{Server: &ServerInfo{}, Error: &APIError{Code: http.StatusBadRequest, Description: err.Error()}}
			c.send(&outMsg{subj: reply, si: resp.Server, v: resp})
			return
		}
		if !c.matches(&f) {
			return
		}
	}
	c.sendStatsz(reply)
}

func (c *Client) varzReq(m *inMsg) {
	var o EventFilterOptions
	c.zReq(m, &o, &o, func() (any, error) { return c.cfg.Monitor.Varz(), nil })
}

func (c *Client) subszReq(m *inMsg) {
	var o struct {
		monitor.SubszOptions
		EventFilterOptions
	}
	c.zReq(m, &o, &o.EventFilterOptions, func() (any, error) { return c.cfg.Monitor.Subsz(o.SubszOptions) })
}

// connzOptions are the CONNZ request's options, with nats-server's names.
type connzOptions struct {
	Sort                string `json:"sort"`
	Auth                bool   `json:"auth"`
	Subscriptions       bool   `json:"subscriptions"`
	SubscriptionsDetail bool   `json:"subscriptions_detail"`
	Offset              int    `json:"offset"`
	Limit               int    `json:"limit"`
	CID                 uint64 `json:"cid"`
	State               int    `json:"state"`
	User                string `json:"user"`
	Account             string `json:"acc"`
	FilterSubject       string `json:"filter_subject"`
	MQTTClient          string `json:"mqtt_client"`
}

// monitorOptions turns the request's options into /connz's, refusing
// what /connz refuses and what natsd does not do.
func (o *connzOptions) monitorOptions() (monitor.ConnzOptions, error) {
	mo := monitor.ConnzOptions{
		Sort: monitor.SortOpt(o.Sort), Offset: max(o.Offset, 0), Limit: max(o.Limit, 0), CID: o.CID,
		Subs: o.Subscriptions || o.SubscriptionsDetail, Auth: o.Auth, User: o.User, Account: o.Account,
	}
	switch o.State {
	case 0:
		mo.State = monitor.ConnOpen
	case 1:
		mo.State = monitor.ConnClosed
	case 2:
		mo.State = monitor.ConnAny
	default:
		return mo, fmt.Errorf("invalid state: %d (valid: 0 open, 1 closed, 2 any)", o.State)
	}
	switch {
	case !mo.Sort.IsValid():
		return mo, fmt.Errorf("invalid sorting option: %s", o.Sort)
	case (mo.Sort == monitor.ByStop || mo.Sort == monitor.ByReason) && mo.State != monitor.ConnClosed:
		return mo, fmt.Errorf("sort by %s only valid on closed connections", mo.Sort)
	case o.FilterSubject != "" && o.FilterSubject != ">":
		return mo, errors.New("filter by subject is not supported by natsd")
	case o.MQTTClient != "":
		return mo, errors.New("natsd has no MQTT clients")
	}
	if mo.CID != 0 {
		mo.Limit = 1
	}
	return mo, nil
}

func (c *Client) connzReq(m *inMsg) {
	var o struct {
		connzOptions
		EventFilterOptions
	}
	c.zReq(m, &o, &o.EventFilterOptions, func() (any, error) {
		mo, err := o.monitorOptions()
		if err != nil {
			return nil, err
		}
		return c.cfg.Monitor.Connz(mo), nil
	})
}

func (c *Client) routezReq(m *inMsg) {
	var o struct {
		Subscriptions       bool `json:"subscriptions"`
		SubscriptionsDetail bool `json:"subscriptions_detail"`
		EventFilterOptions
	}
	c.zReq(m, &o, &o.EventFilterOptions, func() (any, error) {
		return c.cfg.Monitor.Routez(o.Subscriptions || o.SubscriptionsDetail), nil
	})
}

func (c *Client) accountzReq(m *inMsg) {
	var o struct {
		Account string `json:"account"`
		EventFilterOptions
	}
	c.zReq(m, &o, &o.EventFilterOptions, func() (any, error) { return c.cfg.Monitor.Accountz(o.Account) })
}

func (c *Client) healthzReq(m *inMsg) {
	var o EventFilterOptions
	c.zReq(m, &o, &o, func() (any, error) {
		code, hs := c.cfg.Monitor.Healthz()
		return &HealthStatus{Status: hs.Status, StatusCode: code, Error: hs.Error}, nil
	})
}

func (c *Client) lifecyclezReq(m *inMsg) {
	var o EventFilterOptions
	c.zReq(m, &o, &o, func() (any, error) { return c.cfg.Monitor.Lifecyclez(), nil })
}

// clientReq is the body of KICK and LDM.
type clientReq struct {
	CID uint64 `json:"cid"`
	EventFilterOptions
}

// adminReq answers KICK and LDM: act on the client named by cid. A body
// that is not JSON is logged and not answered, as nats-server does.
func (c *Client) adminReq(m *inMsg, what string, act func(uint64) error) {
	var o clientReq
	if err := json.Unmarshal(m.payload, &o); err != nil {
		c.cfg.Log.Errorf("System account: bad %s request: %v", what, err)
		return
	}
	c.zReq(m, &o, &o.EventFilterOptions, func() (any, error) { return nil, act(o.CID) })
}

func (c *Client) kickReq(m *inMsg) { c.adminReq(m, "KICK", c.cfg.Admin.Kick) }
func (c *Client) ldmReq(m *inMsg)  { c.adminReq(m, "LDM", c.cfg.Admin.LameDuckClient) }

// lameDuckReq is natsd's whole-server lame duck: the answer is the drain
// plan, or a 409 error naming the state that refuses it.
func (c *Client) lameDuckReq(m *inMsg) {
	var o EventFilterOptions
	c.zReq(m, &o, &o, func() (any, error) {
		plan, err := c.cfg.Admin.EnterLameDuck("system account request")
		if err != nil {
			return nil, &apiError{code: http.StatusConflict, err: err}
		}
		return plan, nil
	})
}
