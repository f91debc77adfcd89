package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClusterFlags are nats-server's cluster flags; they override the config
// file's cluster block.
type ClusterFlags struct {
	Cluster          string `name:"cluster" aliases:"cluster_listen" group:"Cluster" placeholder:"URL" help:"Cluster URL to accept routes on (nats://host:port; port -1: random; user:pass@ sets the route credentials)."`
	ClusterName      string `name:"cluster_name" group:"Cluster" placeholder:"NAME" help:"Cluster name (required with a cluster)."`
	Routes           string `name:"routes" group:"Cluster" placeholder:"URLS" help:"Routes to solicit: comma-separated nats-route://host:port URLs."`
	NoAdvertise      bool   `name:"no_advertise" group:"Cluster" help:"Do not advertise client URLs to the cluster, nor the cluster's to clients."`
	ClusterAdvertise string `name:"cluster_advertise" group:"Cluster" placeholder:"HOST:PORT" help:"Cluster address the other servers are told to dial."`
	ConnectRetries   int    `name:"connect_retries" group:"Cluster" placeholder:"N" help:"How many times a route learnt by gossip is dialled again after a failure."`
}

func init() {
	configOptions["cluster"] = setClusterBlock
	for _, name := range []string{"cluster", "cluster_listen"} {
		natsFlags[name] = flagSpec{[]string{"--cluster"}, true}
	}
	for _, name := range []string{"cluster_name", "routes", "cluster_advertise", "connect_retries"} {
		natsFlags[name] = flagSpec{[]string{"--" + name}, true}
	}
	natsFlags["no_advertise"] = flagSpec{[]string{"--no_advertise"}, false}
}

// setClusterBlock reads nats-server's cluster { } block. Options natsd does
// not implement are errors naming them.
func setClusterBlock(s *settings, v any) error {
	block, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a block, got %s", describe(v))
	}
	co := &s.Server.Cluster
	for _, e := range entries(block, "", 0) {
		raw := e.v
		var err error
		switch e.name {
		case "name":
			co.Name, err = asString(raw)
		case "listen":
			co.Host, co.Port, err = parseListen(raw)
		case "host", "net":
			co.Host, err = asString(raw)
		case "port":
			var p int64
			p, err = asInt(raw)
			co.Port = int(p)
		case "advertise", "cluster_advertise":
			co.Advertise, err = asString(raw)
		case "routes":
			co.Routes, err = asStrings(raw)
		case "no_advertise":
			co.NoAdvertise, err = asBool(raw)
		case "connect_retries":
			var n int64
			n, err = asInt(raw)
			co.ConnectRetries = int(n)
		case "connect_backoff":
			co.ConnectBackoff, err = asBool(raw)
		case "pool_size":
			var n int64
			n, err = asInt(raw)
			co.PoolSize = int(n)
		case "compression":
			co.Compression, err = parseCompression(raw)
		case "authorization":
			err = setClusterAuth(s, raw)
			if err != nil {
				return err
			}
		case "tls":
			err = setClusterTLS(s, raw)
		case "ping_interval":
			err = setDuration(func(s *settings) *time.Duration { return &s.Server.Cluster.PingInterval })(s, raw)
		case "ping_max":
			var n int64
			n, err = asInt(raw)
			co.PingMax = int(n)
		case "permissions", "accounts", "write_deadline", "write_timeout":
			return (&entry{key: "cluster " + e.key, file: e.file, line: e.line}).unsupported("")
		default:
			if e.used {
				continue
			}
			return e.unknownField()
		}
		if err != nil {
			e.key = "cluster " + e.key
			return e.errAt(err)
		}
	}
	return nil
}

// setClusterAuth reads cluster { authorization { user, password, timeout } }.
func setClusterAuth(s *settings, v any) error {
	block, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a block, got %s", describe(v))
	}
	co := &s.Server.Cluster
	for _, e := range entries(block, "", 0) {
		raw := e.v
		var err error
		switch e.name {
		case "user", "username":
			co.Username, err = asString(raw)
		case "pass", "password":
			co.Password, err = asString(raw)
		case "timeout":
			switch x := raw.(type) {
			case float64:
				co.AuthTimeout = time.Duration(x * float64(time.Second))
			default:
				err = setDuration(func(s *settings) *time.Duration { return &s.Server.Cluster.AuthTimeout })(s, raw)
			}
		case "token":
			err = errors.New("cluster authorization does not support tokens")
		case "users":
			err = errors.New("cluster authorization does not allow multiple users")
		default:
			if e.used {
				continue
			}
			return e.unknownField()
		}
		if err != nil {
			e.key = "cluster authorization " + e.key
			return e.errAt(err)
		}
	}
	return nil
}

// parseListen reads a listen value: "host:port", ":port" or a port number.
func parseListen(v any) (string, int, error) {
	switch x := v.(type) {
	case int64:
		return "", int(x), nil
	case string:
		host, port, err := net.SplitHostPort(x)
		if err != nil {
			return "", 0, fmt.Errorf("expected host:port, got %q", x)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return "", 0, fmt.Errorf("expected host:port, got %q", x)
		}
		return host, p, nil
	}
	return "", 0, fmt.Errorf("expected host:port, got %s", describe(v))
}

// parseCompression reads compression as nats-server does (a mode string, a
// boolean, or a block with a mode); validation refuses everything but off.
func parseCompression(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "s2_fast", nil
		}
		return "off", nil
	case map[string]any:
		mode, ok := x["mode"]
		if !ok {
			return "", errors.New("expected a mode")
		}
		if t, ok := mode.(token); ok {
			mode = t.Value()
		}
		return asString(mode)
	}
	return "", fmt.Errorf("expected a mode, got %s", describe(v))
}

func asBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expected a boolean, got %s", describe(v))
	}
	return b, nil
}

func asStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list, got %s", describe(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if t, ok := e.(token); ok {
			e = t.Value()
		}
		s, err := asString(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// applyClusterFlags lays the cluster flags over the settings, as
// nats-server's overrideCluster does: --cluster replaces the listen address
// and the route credentials (clearing those of the file when it has none).
func applyClusterFlags(f *ClusterFlags, st *settings) error {
	co := &st.Server.Cluster
	if f.Cluster != "" {
		listen := f.Cluster
		random := strings.HasSuffix(listen, ":-1")
		if random {
			listen = strings.TrimSuffix(listen, ":-1") + ":0"
		}
		u, err := url.Parse(listen)
		if err != nil {
			return fmt.Errorf("--cluster: %v", err)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil {
			return fmt.Errorf("--cluster %q: expected a URL like nats://host:port", f.Cluster)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("--cluster %q: %q is not a port number", f.Cluster, port)
		}
		if random {
			p = -1
		}
		co.Host, co.Port = host, p
		co.Username, co.Password = "", ""
		if u.User != nil {
			pass, ok := u.User.Password()
			if !ok {
				return fmt.Errorf("--cluster: expected cluster password to be set")
			}
			co.Username, co.Password = u.User.Username(), pass
		}
	}
	if f.ClusterName != "" {
		co.Name = f.ClusterName
	}
	if f.Routes != "" {
		co.Routes = nil
		for _, r := range strings.Split(f.Routes, ",") {
			if r = strings.TrimSpace(r); r != "" {
				co.Routes = append(co.Routes, r)
			}
		}
	}
	if f.NoAdvertise {
		co.NoAdvertise = true
	}
	if f.ClusterAdvertise != "" {
		co.Advertise = f.ClusterAdvertise
	}
	if f.ConnectRetries != 0 {
		co.ConnectRetries = f.ConnectRetries
	}
	return nil
}
