// Package testcert makes a throw-away CA, server and client certificate
// for tests of natsd's TLS. It is imported only by tests.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Files are PEM files written to a test's temp dir.
type Files struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	// RouteCert and RouteKey are for cluster TLS: a route presents its
	// certificate as the TLS server and as the TLS client, so it is valid
	// for both (127.0.0.1 and localhost), signed by the CA.
	RouteCert, RouteKey string
	// UntrustedCert and UntrustedKey are a route certificate like
	// RouteCert, but signed by another CA that nothing trusts.
	UntrustedCert, UntrustedKey string
}

// Write makes a CA, a server certificate for 127.0.0.1 and localhost, a
// client certificate and a route certificate, all signed by the CA, and a
// route certificate signed by another CA, and writes them as PEM files.
func Write(t testing.TB) Files {
	t.Helper()
	dir := t.TempDir()
	ca, caKey, caDER := makeCA(t, "natsd test CA")
	f := Files{CA: filepath.Join(dir, "ca.pem")}
	writePEM(t, f.CA, "CERTIFICATE", caDER)
	f.ServerCert, f.ServerKey = leaf(t, dir, "server", 2, ca, caKey, x509.ExtKeyUsageServerAuth)
	f.ClientCert, f.ClientKey = leaf(t, dir, "client", 3, ca, caKey, x509.ExtKeyUsageClientAuth)
	f.RouteCert, f.RouteKey = leaf(t, dir, "route", 4, ca, caKey, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	other, otherKey, _ := makeCA(t, "untrusted test CA")
	f.UntrustedCert, f.UntrustedKey = leaf(t, dir, "untrusted", 2, other, otherKey, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	return f
}

// makeCA makes a self-signed CA certificate.
func makeCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	caKey := key(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	return ca, caKey, caDER
}

// leaf makes a certificate for 127.0.0.1 and localhost signed by ca and
// writes it and its key to dir as name.pem and name-key.pem.
func leaf(t testing.TB, dir, name string, serial int64, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage ...x509.ExtKeyUsage) (string, string) {
	t.Helper()
	k := key(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, cert, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return cert, keyFile
}

// ClientConfig returns a client TLS configuration trusting the CA, with the
// client certificate when withCert is true.
func (f Files) ClientConfig(t testing.TB, withCert bool) *tls.Config {
	t.Helper()
	pemBytes, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RouteConfig returns a cluster TLS configuration like natsd builds from
// cluster { tls {} }: the certificate cert (RouteCert or UntrustedCert) and
// its key, the CA as the pool that verifies the remote in both directions,
// and the remote's certificate required.
func (f Files) RouteConfig(t testing.TB, cert, keyFile string) *tls.Config {
	t.Helper()
	pemBytes, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	pair, err := tls.LoadX509KeyPair(cert, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}
