package monitor

import (
	"net/http"
	"testing"

	"gotest.tools/v3/assert"
)

// TestUnconfiguredEndpoints: the endpoints of features natsd does not run
// answer byte for byte as nats-server v2.15.2 does when the feature is not
// configured (its field names, in its order; bodies taken from a
// nats-server started with -m and no cluster, leaf node, gateway or
// JetStream), rather than 404.
func TestUnconfiguredEndpoints(t *testing.T) {
	const now = `"now": "2026-05-01T12:00:00Z"`
	cases := []struct {
		path     string
		wantCode int
		want     string
	}{
		{RoutezPath, http.StatusOK, `{
  "server_id": "NSERVERID",
  "server_name": "natsd-test",
  ` + now + `,
  "num_routes": 0,
  "routes": []
}`},
		{LeafzPath, http.StatusOK, `{
  "server_id": "NSERVERID",
  ` + now + `,
  "leafnodes": 0,
  "leafs": []
}`},
		{GatewayzPath, http.StatusOK, `{
  "server_id": "NSERVERID",
  ` + now + `,
  "outbound_gateways": {},
  "inbound_gateways": {}
}`},
		{JszPath, http.StatusOK, `{
  "memory": 0,
  "storage": 0,
  "reserved_memory": 0,
  "reserved_storage": 0,
  "accounts": 0,
  "ha_assets": 0,
  "api": {
    "level": 0,
    "total": 0,
    "errors": 0
  },
  "server_id": "NSERVERID",
  ` + now + `,
  "disabled": true,
  "config": {
    "max_memory": 0,
    "max_storage": 0
  },
  "streams": 0,
  "consumers": 0,
  "messages": 0,
  "bytes": 0,
  "total": 0
}`},
		{AccountzPath, http.StatusOK, `{
  "server_id": "NSERVERID",
  ` + now + `,
  "system_account": "$SYS",
  "accounts": [
    "$G",
    "$SYS"
  ]
}`},
		{AccountzPath + "?acc=$G", http.StatusOK, `{
  "server_id": "NSERVERID",
  ` + now + `,
  "system_account": "$SYS",
  "account_detail": {
    "account_name": "$G",
    "update_time": "2026-05-01T11:00:00Z",
    "expired": false,
    "complete": true,
    "jetstream_enabled": false,
    "leafnode_connections": 0,
    "client_connections": 1,
    "subscriptions": 3
  }
}`},
		{AccountzPath + "?acc=$SYS", http.StatusOK, `{
  "server_id": "NSERVERID",
  ` + now + `,
  "system_account": "$SYS",
  "account_detail": {
    "account_name": "$SYS",
    "update_time": "2026-05-01T11:00:00Z",
    "is_system": true,
    "expired": false,
    "complete": true,
    "jetstream_enabled": false,
    "leafnode_connections": 0,
    "client_connections": 0,
    "subscriptions": 0
  }
}`},
		{AccountzPath + "?acc=nope", http.StatusBadRequest, `Account nope does not exist`},
	}
	f := newFake()
	f.open = append(f.open, snap(1))
	f.subs = 3
	m := newMonitor(f)
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			code, body := get(t, m, tc.path)
			assert.Equal(t, code, tc.wantCode)
			assert.Equal(t, string(body), tc.want)
		})
	}
	v := m.Varz()
	for _, p := range []string{RoutezPath, LeafzPath, GatewayzPath, JszPath} {
		assert.Equal(t, v.HTTPReqStats[p], uint64(1), "http_req_stats of %s", p)
	}
	assert.Equal(t, v.HTTPReqStats[AccountzPath], uint64(4))

	// Without a system account, /accountz lists the global account alone.
	f.cfg.SystemAccount = ""
	code, body := get(t, newMonitor(f), AccountzPath)
	assert.Equal(t, code, http.StatusOK)
	assert.Equal(t, string(body), "{\n  \"server_id\": \"NSERVERID\",\n  "+now+",\n  \"accounts\": [\n    \"$G\"\n  ]\n}")
}
