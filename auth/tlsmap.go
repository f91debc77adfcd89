package auth

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"sort"
	"strings"
)

// userFromCert finds the user a client certificate names, in nats-server's
// order: an e-mail address, a DNS name or a URI of the certificate equal to
// a user name, then a user name that is the certificate's subject as a
// distinguished name (attribute order and case of the attribute types do
// not matter), then the subject's RFC 2253 string. It returns nil when
// none matches or when there is no certificate.
func (a *Authenticator) userFromCert(cert *x509.Certificate) *compiledUser {
	if cert == nil {
		return nil
	}
	lookup := func(name string) *compiledUser {
		if u := a.users[name]; u != nil && u.standardAllowed() {
			return u
		}
		return nil
	}
	for _, e := range cert.EmailAddresses {
		if u := lookup(e); u != nil {
			return u
		}
	}
	for _, d := range cert.DNSNames {
		if u := lookup(d); u != nil {
			return u
		}
	}
	for _, uri := range cert.URIs {
		if u := lookup(uri.String()); u != nil {
			return u
		}
	}
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(cert.RawSubject, &rdns); err == nil {
		want := rdnKey(rdns)
		names := make([]string, 0, len(a.users))
		for n := range a.users {
			names = append(names, n)
		}
		sort.Strings(names) // deterministic when two names denote one DN
		for _, n := range names {
			if k, ok := parseDN(n); ok && k == want {
				if u := lookup(n); u != nil {
					return u
				}
			}
		}
	}
	return lookup(cert.Subject.ToRDNSequence().String())
}

// attrNames are the short names of the distinguished-name attribute types,
// as RFC 2253 and Go's pkix write them.
var attrNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.17": "POSTALCODE", "2.5.4.42": "GN",
	"0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	"1.2.840.113549.1.9.1": "EMAILADDRESS",
}

// rdnKey returns a canonical form of a distinguished name: its
// "TYPE=value" attributes, types upper-cased, sorted.
func rdnKey(rdns pkix.RDNSequence) string {
	var attrs []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			t := atv.Type.String()
			if n, ok := attrNames[t]; ok {
				t = n
			}
			v, _ := atv.Value.(string)
			attrs = append(attrs, t+"="+v)
		}
	}
	sort.Strings(attrs)
	return strings.Join(attrs, ",")
}

// parseDN reads a user name written as a distinguished name ("CN=app,
// O=Acme" or "O=Acme,CN=app") into the canonical form of [rdnKey]. It
// understands '\' escapes and '+' multi-valued RDNs; anything else that is
// not TYPE=value pairs is not a DN.
func parseDN(s string) (string, bool) {
	var attrs []string
	var cur strings.Builder
	var parts []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ',' || c == '+' || c == ';':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		t, v, ok := strings.Cut(p, "=")
		t = strings.ToUpper(strings.TrimSpace(t))
		if !ok || t == "" {
			return "", false
		}
		if oidName, isOID := attrNames[t]; isOID {
			t = oidName
		}
		attrs = append(attrs, t+"="+strings.TrimSpace(v))
	}
	sort.Strings(attrs)
	return strings.Join(attrs, ","), true
}
