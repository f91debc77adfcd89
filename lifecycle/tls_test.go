package lifecycle

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/testcert"
	"gotest.tools/v3/assert"
)

func TestTLSClients(t *testing.T) {
	certs := testcert.Write(t)
	s := startServer(t, func(o *Options) {
		o.TLS, o.TLSCert, o.TLSKey = true, certs.ServerCert, certs.ServerKey
		o.HTTPSPort = RandomPort
	})

	// A TLS client works end to end.
	nc := connect(t, s, nats.Secure(certs.ClientConfig(t, false)))
	sub, err := nc.SubscribeSync("secure")
	assert.NilError(t, err)
	assert.NilError(t, nc.Publish("secure", []byte("hi")))
	m, err := sub.NextMsg(5 * time.Second)
	assert.NilError(t, err)
	assert.Equal(t, string(m.Data), "hi")
	assert.Assert(t, nc.TLSRequired())

	// A plain client reads INFO with tls_required and, not starting a
	// handshake, is closed with TLSHandshakeError.
	raw := dialRaw(t, s)
	raw.send("CONNECT {}\r\nPING\r\n")
	raw.eof()
	waitFor(t, "the handshake failure", func() bool {
		for _, c := range s.Closed() {
			if c.Reason == conn.TLSHandshakeError {
				return true
			}
		}
		return false
	})

	// Monitoring over HTTPS.
	var url string
	for _, u := range s.Ports().Monitoring {
		if strings.HasPrefix(u, "https://127.0.0.1:") {
			url = u
		}
	}
	assert.Assert(t, url != "", "%v", s.Ports().Monitoring)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientConfig(t, false)}}
	resp, err := client.Get(url + "/varz")
	assert.NilError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var varz map[string]any
	assert.NilError(t, json.Unmarshal(body, &varz))
	assert.Equal(t, varz["server_id"], s.ID())
	client.CloseIdleConnections()
}

func TestTLSVerifyNeedsClientCertificate(t *testing.T) {
	certs := testcert.Write(t)
	s := startServer(t, func(o *Options) {
		o.TLSVerify, o.TLSCert, o.TLSKey, o.TLSCACert = true, certs.ServerCert, certs.ServerKey, certs.CA
	})
	connect(t, s, nats.Secure(certs.ClientConfig(t, true)))
	_, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.Secure(certs.ClientConfig(t, false)))
	assert.Assert(t, err != nil, "a client without a certificate was accepted")
}

func TestTLSBadCertificateFailsNew(t *testing.T) {
	_, err := New(&Options{TLS: true, TLSCert: "/nonexistent.pem", TLSKey: "/nonexistent.key"}, Deps{Log: quietLog(t)})
	assert.ErrorContains(t, err, "tls: load certificate /nonexistent.pem")
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "the cause is lost: %v", err)
	_, err = New(&Options{TLS: true}, Deps{Log: quietLog(t)})
	assert.ErrorContains(t, err, "a certificate and its key are required")
}
