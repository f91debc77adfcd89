package main

import (
	"fmt"
	"strings"
	"time"
)

// tlsBlock is what one of nats-server's tls {} blocks says: the server's
// block secures the clients, the cluster's the routes.
type tlsBlock struct {
	cert, key, ca        string
	verify, verifyAndMap bool
	timeout              time.Duration
	handshakeFirst       bool
}

// parseTLSBlock reads a tls {} block with nats-server's keys. where names
// the block in errors ("tls", "cluster tls"); refused maps the keys natsd
// implements elsewhere but not in this block to the feature they are. A
// key of nats-server's block that natsd does not implement is refused,
// naming it; any other key is an unknown field.
func parseTLSBlock(v any, where string, refused map[string]string) (tlsBlock, error) {
	var b tlsBlock
	block, ok := v.(map[string]any)
	if !ok {
		return b, fmt.Errorf("expected a block, got %s", describe(v))
	}
	for _, e := range entries(block, "", 0) {
		if feature, ok := refused[e.name]; ok {
			return b, (&entry{key: where + " " + e.key, file: e.file, line: e.line}).unsupported(feature)
		}
		var err error
		switch e.name {
		case "cert_file":
			b.cert, err = asString(e.v)
		case "key_file":
			b.key, err = asString(e.v)
		case "ca_file":
			b.ca, err = asString(e.v)
		case "verify":
			b.verify, err = asBool(e.v)
		case "timeout":
			b.timeout, err = parseTLSTimeout(e.v)
		case "verify_and_map":
			b.verifyAndMap, err = asBool(e.v)
			if b.verifyAndMap {
				b.verify = true
			}
		case "handshake_first", "first", "immediate":
			b.handshakeFirst, err = parseHandshakeFirst(where, e)
		default:
			if _, known := unsupportedTLSOptions[e.name]; known {
				return b, (&entry{key: where + " " + e.key, file: e.file, line: e.line}).unsupported("")
			}
			if e.used {
				continue
			}
			return b, e.unknownField()
		}
		if err != nil {
			return b, e.errAt(err)
		}
	}
	return b, nil
}

// parseTLSTimeout reads a tls timeout: a duration string or a number of
// seconds (an integer or, as nats-server allows, a fraction).
func parseTLSTimeout(v any) (time.Duration, error) {
	if f, ok := v.(float64); ok {
		return time.Duration(f * float64(time.Second)), nil
	}
	var d time.Duration
	err := setDuration(func(*settings) *time.Duration { return &d })(nil, v)
	return d, err
}

// parseHandshakeFirst reads tls { handshake_first }: a boolean, or "true",
// "on", "false", "off". nats-server's fallback forms ("auto" or a delay,
// which let a client that does not start TLS go on in the clear after a
// wait) are refused by name.
func parseHandshakeFirst(where string, e entry) (bool, error) {
	switch v := e.v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true", "on":
			return true, nil
		case "false", "off":
			return false, nil
		}
		if _, err := time.ParseDuration(v); err == nil || strings.EqualFold(v, "auto") || strings.EqualFold(v, "auto_fallback") {
			return false, (&entry{key: where + " " + e.key + " " + v, file: e.file, line: e.line}).unsupported("handshake_first fallback")
		}
		return false, fmt.Errorf("field %q's value %q is invalid", e.key, v)
	}
	return false, fmt.Errorf("field %q should be a boolean or a string, got %T", e.key, e.v)
}

// setTLSBlock reads the server's tls {} block; its presence turns TLS on
// for the clients.
func setTLSBlock(s *settings, v any) error {
	b, err := parseTLSBlock(v, "tls", nil)
	if err != nil {
		return err
	}
	o := &s.Server
	o.TLS = true
	o.TLSCert, o.TLSKey, o.TLSCACert = b.cert, b.key, b.ca
	o.TLSVerify, o.TLSTimeout, o.TLSHandshakeFirst = b.verify, b.timeout, b.handshakeFirst
	if b.verifyAndMap {
		o.Auth.TLSMap = true
	}
	return nil
}

// setClusterTLS reads cluster { tls {} }: its presence turns TLS on for
// every route. verify is read as nats-server reads it, and the routes
// verify the remote's certificate whatever it says; handshake_first is
// read and changes nothing (a route's TLS handshake always comes first,
// in nats-server too); verify_and_map, which would authenticate routes by
// their certificate, is refused.
func setClusterTLS(s *settings, v any) error {
	b, err := parseTLSBlock(v, "cluster tls", clusterTLSRefused)
	if err != nil {
		return err
	}
	co := &s.Server.Cluster
	co.TLS = true
	co.TLSCert, co.TLSKey, co.TLSCACert = b.cert, b.key, b.ca
	co.TLSVerify, co.TLSTimeout = b.verify, b.timeout
	return nil
}

// clusterTLSRefused are the keys of the server's tls {} block that natsd
// implements for clients but not for routes.
var clusterTLSRefused = map[string]string{
	"verify_and_map": "route authentication by certificate",
}

// unsupportedTLSOptions are the keys of nats-server's tls {} block that
// natsd does not implement.
var unsupportedTLSOptions = map[string]bool{
	"insecure": true, "verify_cert_and_check_known_urls": true,
	"allow_insecure_cipher_suites": true, "cipher_suites": true, "curve_preferences": true,
	"connection_rate_limit": true, "pinned_certs": true, "cert_store": true,
	"cert_match_by": true, "cert_match": true, "ca_certs_match": true,
	"cert_match_skip_invalid": true, "ocsp_peer": true, "certs": true, "certificates": true,
	"min_version": true,
}
