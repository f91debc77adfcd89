package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/testcert"
	"gotest.tools/v3/assert"
)

// TestTLSFromFlagsAndConfig: --tls/--tlscert/--tlskey and nats-server's
// tls {} block both give TLS clients.
func TestTLSFromFlagsAndConfig(t *testing.T) {
	certs := testcert.Write(t)
	conf := filepath.Join(t.TempDir(), "tls.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("tls {\n  cert_file: \""+certs.ServerCert+"\"\n  key_file: \""+certs.ServerKey+"\"\n  timeout: 2\n}\n"), 0o644))
	for name, args := range map[string][]string{
		"flags":  {"--tls", "--tlscert", certs.ServerCert, "--tlskey", certs.ServerKey},
		"config": {"-c", conf},
	} {
		t.Run(name, func(t *testing.T) {
			p := startNatsd(t, args...)
			nc, err := nats.Connect(p.url(), nats.NoReconnect(), nats.Secure(certs.ClientConfig(t, false)))
			assert.NilError(t, err)
			assert.NilError(t, nc.Flush())
			assert.Assert(t, nc.TLSRequired())
			nc.Close()
			p.signal(syscall.SIGTERM)
			assert.Equal(t, p.wait(), 0)
		})
	}
}
