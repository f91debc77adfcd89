package lifecycle

import (
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestClusterOptionsNeverPrintThePassword: the reload log line prints the
// changed options; the cluster password, and route URL passwords, are not
// in it.
func TestClusterOptionsNeverPrintThePassword(t *testing.T) {
	c := ClusterOptions{Name: "c1", Host: "127.0.0.1", Port: 6222, Username: "ruser", Password: "s3cret",
		Routes: []string{"nats-route://u:t0psecret@10.0.0.2:6222"}}
	var rows []string
	for _, o := range optionTable {
		rows = append(rows, o.name+" = "+o.get(&Options{Cluster: c}))
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v", c.fixed()), strings.Join(rows, ", ")} {
		assert.Assert(t, !strings.Contains(s, "s3cret") && !strings.Contains(s, "t0psecret"), s)
		assert.Assert(t, strings.Contains(s, "ruser"), s)
	}
}

// TestClusterOptionsValidate: the cluster options natsd refuses, one line
// naming each.
func TestClusterOptionsValidate(t *testing.T) {
	ok := ClusterOptions{Name: "c1", Port: RandomPort}
	assert.NilError(t, ok.validate())
	assert.NilError(t, (&ClusterOptions{}).validate())
	for _, tc := range []struct {
		mod  func(*ClusterOptions)
		want string
	}{
		{func(c *ClusterOptions) { c.Port = 70000 }, "cluster.port"},
		{func(c *ClusterOptions) { c.Name = "" }, "cluster.name: a cluster name is required"},
		{func(c *ClusterOptions) { c.PoolSize = 3 }, "cluster.pool_size"},
		{func(c *ClusterOptions) { c.Compression = "s2_fast" }, "cluster.compression"},
		{func(c *ClusterOptions) { c.TLS = true }, "cluster.tls: a certificate and its key are required (cert_file and key_file)"},
		{func(c *ClusterOptions) { c.TLS, c.TLSCert = true, "c.pem" }, "cluster.tls: missing 'key_file' in TLS configuration"},
		{func(c *ClusterOptions) { c.TLS, c.TLSKey = true, "k.pem" }, "cluster.tls: missing 'cert_file' in TLS configuration"},
		{func(c *ClusterOptions) { c.TLS, c.TLSCert, c.TLSKey, c.TLSTimeout = true, "c.pem", "k.pem", -1 }, "cluster.tls.timeout: must not be negative"},
		{func(c *ClusterOptions) { c.ConnectRetries = -1 }, "cluster.connect_retries"},
		{func(c *ClusterOptions) { c.Advertise = "h:x" }, "cluster.advertise"},
		{func(c *ClusterOptions) { c.Routes = []string{"nats-route://h"} }, "cluster.routes"},
	} {
		c := ok
		tc.mod(&c)
		assert.ErrorContains(t, c.validate(), tc.want)
	}
	tls := ok
	tls.TLS, tls.TLSCert, tls.TLSKey = true, "c.pem", "k.pem"
	assert.NilError(t, tls.validate(), "files are read by ClusterTLSConfig, not validate")
	for _, mode := range []string{"off", "disabled", "false", "OFF"} {
		c := ok
		c.Compression = mode
		assert.NilError(t, c.validate())
	}
}
