package auth

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"net/url"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
	"gotest.tools/v3/assert"
)

// testKey is an nkey user for the tables.
type testKey struct {
	kp  nkeys.KeyPair
	pub string
}

func newKey(t *testing.T) testKey {
	t.Helper()
	kp, err := nkeys.CreateUser()
	assert.NilError(t, err)
	pub, err := kp.PublicKey()
	assert.NilError(t, err)
	return testKey{kp, pub}
}

func (k testKey) sign(t *testing.T, nonce []byte, enc *base64.Encoding) string {
	t.Helper()
	sig, err := k.kp.Sign(nonce)
	assert.NilError(t, err)
	return enc.EncodeToString(sig)
}

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	assert.NilError(t, err)
	return string(h)
}

// certFor returns a certificate (unsigned: the handshake verified it)
// with the given subject and SANs.
func certFor(t *testing.T, subject pkix.Name, emails, dns []string, uris ...string) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(subject.ToRDNSequence())
	assert.NilError(t, err)
	c := &x509.Certificate{RawSubject: raw, Subject: subject, EmailAddresses: emails, DNSNames: dns}
	for _, u := range uris {
		pu, err := url.Parse(u)
		assert.NilError(t, err)
		c.URIs = append(c.URIs, pu)
	}
	return c
}

// TestAuthenticate: configurations × credentials → verdict.
func TestAuthenticate(t *testing.T) {
	alice, bob := newKey(t), newKey(t)
	nonce := []byte("nonce-123")
	hash := bcryptHash(t, "s3cret")
	pubOnly := &Permissions{Publish: &SubjectPermission{Allow: []string{"a.>"}}}
	users := Config{Users: []User{
		{Name: "plain", Password: "pw"},
		{Name: "hashed", Password: hash, Account: "APP", Permissions: pubOnly},
		{Nkey: alice.pub, Account: "APP"},
		{Name: "ws", Password: "pw", ConnectionTypes: []string{"WEBSOCKET"}},
		{Name: "std", Password: "pw", ConnectionTypes: []string{"websocket", "standard"}},
	}}
	noAuth := users
	noAuth.NoAuthUser = "plain"
	noAuthNkey := users
	noAuthNkey.NoAuthUser = alice.pub
	cn := pkix.Name{CommonName: "app", Organization: []string{"Acme"}}
	mapped := Config{TLSMap: true, Users: []User{
		{Name: "me@example.com"},
		{Name: "svc.example.com"},
		{Name: "spiffe://example.com/app"},
		{Name: "O=Acme, CN=app", Account: "APP"},
	}}
	rdnOnly := Config{TLSMap: true, Users: []User{{Name: "CN=other,O=Acme"}, {Name: cn.ToRDNSequence().String()}}}

	type want struct {
		user, account string
		fails         bool
	}
	cases := []struct {
		name string
		cfg  Config
		cr   Credentials
		want want
	}{
		{"no auth: anyone", Config{}, Credentials{}, want{"", GlobalAccount, false}},
		{"no auth: user shown", Config{}, Credentials{User: "x", Password: "y"}, want{"x", GlobalAccount, false}},
		{"token ok", Config{Token: "t0k"}, Credentials{Token: "t0k"}, want{"[REDACTED]", GlobalAccount, false}},
		{"token wrong", Config{Token: "t0k"}, Credentials{Token: "nope"}, want{fails: true}},
		{"token missing", Config{Token: "t0k"}, Credentials{}, want{fails: true}},
		{"bcrypt token", Config{Token: bcryptHash(t, "t0k")}, Credentials{Token: "t0k"}, want{"[REDACTED]", GlobalAccount, false}},
		{"token as user/pass", Config{Token: "t0k"}, Credentials{User: "t0k", Password: "t0k"}, want{fails: true}},
		{"single user ok", Config{User: "a", Password: "b"}, Credentials{User: "a", Password: "b"}, want{"a", GlobalAccount, false}},
		{"single user wrong password", Config{User: "a", Password: "b"}, Credentials{User: "a", Password: "c"}, want{fails: true}},
		{"single user wrong user", Config{User: "a", Password: "b"}, Credentials{User: "x", Password: "b"}, want{fails: true}},
		{"single user with a token", Config{User: "a", Password: "b"}, Credentials{Token: "b"}, want{fails: true}},
		{"users: plain", users, Credentials{User: "plain", Password: "pw"}, want{"plain", GlobalAccount, false}},
		{"users: plain wrong", users, Credentials{User: "plain", Password: "PW"}, want{fails: true}},
		{"users: bcrypt", users, Credentials{User: "hashed", Password: "s3cret"}, want{"hashed", "APP", false}},
		{"users: bcrypt given the hash", users, Credentials{User: "hashed", Password: hash}, want{fails: true}},
		{"users: unknown", users, Credentials{User: "who", Password: "pw"}, want{fails: true}},
		{"users: anonymous", users, Credentials{}, want{fails: true}},
		{"users: token", users, Credentials{Token: "pw"}, want{fails: true}},
		{"users: connection type not allowed", users, Credentials{User: "ws", Password: "pw"}, want{fails: true}},
		{"users: connection types include standard", users, Credentials{User: "std", Password: "pw"}, want{"std", GlobalAccount, false}},
		{"nkey: raw url signature", users, Credentials{Nkey: alice.pub, Sig: alice.sign(t, nonce, base64.RawURLEncoding), Nonce: nonce}, want{alice.pub, "APP", false}},
		{"nkey: std signature", users, Credentials{Nkey: alice.pub, Sig: alice.sign(t, nonce, base64.StdEncoding), Nonce: nonce}, want{alice.pub, "APP", false}},
		{"nkey: signed by another key", users, Credentials{Nkey: alice.pub, Sig: bob.sign(t, nonce, base64.RawURLEncoding), Nonce: nonce}, want{fails: true}},
		{"nkey: other nonce", users, Credentials{Nkey: alice.pub, Sig: alice.sign(t, []byte("other"), base64.RawURLEncoding), Nonce: nonce}, want{fails: true}},
		{"nkey: no signature", users, Credentials{Nkey: alice.pub, Nonce: nonce}, want{fails: true}},
		{"nkey: garbage signature", users, Credentials{Nkey: alice.pub, Sig: "!!!", Nonce: nonce}, want{fails: true}},
		{"nkey: unknown key", users, Credentials{Nkey: bob.pub, Sig: bob.sign(t, nonce, base64.RawURLEncoding), Nonce: nonce}, want{fails: true}},
		{"no_auth_user: anonymous", noAuth, Credentials{}, want{"plain", GlobalAccount, false}},
		{"no_auth_user: credentials still checked", noAuth, Credentials{User: "plain", Password: "bad"}, want{fails: true}},
		{"no_auth_user: a password alone is not anonymous", noAuth, Credentials{Password: "pw"}, want{fails: true}},
		{"no_auth_user: other user", noAuth, Credentials{User: "hashed", Password: "s3cret"}, want{"hashed", "APP", false}},
		{"no_auth_user nkey: no signature needed", noAuthNkey, Credentials{}, want{alice.pub, "APP", false}},
		{"tls map: email", mapped, Credentials{Cert: certFor(t, pkix.Name{CommonName: "x"}, []string{"me@example.com"}, nil)}, want{"me@example.com", GlobalAccount, false}},
		{"tls map: dns", mapped, Credentials{Cert: certFor(t, pkix.Name{CommonName: "x"}, nil, []string{"svc.example.com"})}, want{"svc.example.com", GlobalAccount, false}},
		{"tls map: uri", mapped, Credentials{Cert: certFor(t, pkix.Name{CommonName: "x"}, nil, nil, "spiffe://example.com/app")}, want{"spiffe://example.com/app", GlobalAccount, false}},
		{"tls map: dn in another order", mapped, Credentials{Cert: certFor(t, cn, nil, nil)}, want{"O=Acme, CN=app", "APP", false}},
		{"tls map: rdn string", rdnOnly, Credentials{Cert: certFor(t, cn, nil, nil)}, want{cn.ToRDNSequence().String(), GlobalAccount, false}},
		{"tls map: no match", mapped, Credentials{Cert: certFor(t, pkix.Name{CommonName: "nobody"}, nil, nil)}, want{fails: true}},
		{"tls map: no certificate", mapped, Credentials{User: "me@example.com"}, want{fails: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg)
			assert.NilError(t, err)
			id, err := a.Authenticate(tc.cr)
			if tc.want.fails {
				assert.Assert(t, errors.Is(err, ErrNotAuthorized), "got %+v, %v", id, err)
				assert.DeepEqual(t, id, Identity{})
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, id.User, tc.want.user)
			assert.Equal(t, id.Account, tc.want.account)
		})
	}
}

func TestAuthenticatorInfo(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct {
		name                      string
		cfg                       Config
		required, announce, nonce bool
	}{
		{"none", Config{}, false, false, false},
		{"token", Config{Token: "x"}, true, true, false},
		{"single user", Config{User: "a", Password: "b"}, true, true, false},
		{"users", Config{Users: []User{{Name: "a"}}}, true, true, false},
		{"nkeys", Config{Users: []User{{Nkey: k.pub}}}, true, true, true},
		{"no_auth_user", Config{Users: []User{{Name: "a"}}, NoAuthUser: "a"}, true, false, false},
		{"hidden no_auth_user", Config{Users: []User{{Name: "a"}}, NoAuthUser: "a", HiddenNoAuthUser: true}, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg)
			assert.NilError(t, err)
			assert.Equal(t, a.Required(), tc.required)
			assert.Equal(t, a.AnnounceRequired(), tc.announce)
			assert.Equal(t, a.NonceRequired(), tc.nonce)
		})
	}
	var none *Authenticator
	assert.Assert(t, !none.Required() && !none.NonceRequired())
	id, err := none.Authenticate(Credentials{})
	assert.NilError(t, err)
	assert.Equal(t, id.Account, GlobalAccount)
}

// TestConfigValidate: what nats-server refuses, with its texts.
func TestConfigValidate(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"user and token", Config{User: "a", Token: "t"}, "Cannot have a user/pass and token"},
		{"single user and users", Config{User: "a", Users: []User{{Name: "b"}}}, "Can not have a single user/pass and a users array"},
		{"token and users", Config{Token: "t", Users: []User{{Name: "b"}}}, "Can not have a token and a users array"},
		{"single user and accounts", Config{User: "a", Users: []User{{Name: "b", Account: "A"}}}, "Can not have a single user/pass and accounts"},
		{"token and accounts", Config{Token: "t", Users: []User{{Name: "b", Account: "A"}}}, "Can not have a token and accounts"},
		{"duplicate user", Config{Users: []User{{Name: "b"}, {Name: "b", Account: "A"}}}, `Duplicate user "b" detected`},
		{"duplicate nkey", Config{Users: []User{{Nkey: k.pub}, {Nkey: k.pub}}}, `Duplicate nkey "` + k.pub + `" detected`},
		{"no user", Config{Users: []User{{Password: "x"}}}, "User entry requires a user"},
		{"bad nkey", Config{Users: []User{{Nkey: "UABC"}}}, "Not a valid public nkey for a user"},
		{"nkey with password", Config{Users: []User{{Nkey: k.pub, Password: "x"}}}, "Nkey users do not take usernames or passwords"},
		{"bad connection type", Config{Users: []User{{Name: "a", ConnectionTypes: []string{"CARRIER_PIGEON"}}}}, `unknown connection type "CARRIER_PIGEON"`},
		{"bad publish subject", Config{Users: []User{{Name: "a", Permissions: &Permissions{Publish: &SubjectPermission{Allow: []string{"a..b"}}}}}}, `subject "a..b" is not a valid subject`},
		{"publish takes no queue", Config{Users: []User{{Name: "a", Permissions: &Permissions{Publish: &SubjectPermission{Allow: []string{"a q"}}}}}}, `subject "a q" is not a valid subject`},
		{"bad subscribe queue", Config{Users: []User{{Name: "a", Permissions: &Permissions{Subscribe: &SubjectPermission{Deny: []string{"a q..x"}}}}}}, `queue "q..x" is not a valid queue`},
		{"no_auth_user without users", Config{NoAuthUser: "a", User: "a", Password: "b"}, `no_auth_user: "a" present, but users/nkeys are not defined`},
		{"no_auth_user unknown", Config{NoAuthUser: "z", Users: []User{{Name: "a"}}}, `no_auth_user: "z" not present as user or nkey in authorization block or account configuration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			assert.Error(t, err, tc.want)
		})
	}
	_, err := New(Config{Users: []User{{Name: "a", Permissions: &Permissions{Subscribe: &SubjectPermission{Allow: []string{"a.* q.*"}}}}}})
	assert.NilError(t, err)
}

// TestReauthenticate: after a reload, an unchanged user keeps its identity
// without its password being checked again (no bcrypt per client); a
// changed one is authenticated again.
func TestReauthenticate(t *testing.T) {
	hash := bcryptHash(t, "pw")
	perms := &Permissions{Publish: &SubjectPermission{Allow: []string{"a"}}}
	prev, err := New(Config{Users: []User{{Name: "u", Password: hash}, {Name: "v", Password: "x"}}})
	assert.NilError(t, err)
	cr := Credentials{User: "u", Password: "pw"}
	id, err := prev.Authenticate(cr)
	assert.NilError(t, err)

	samePassword, err := New(Config{Users: []User{{Name: "u", Password: hash, Account: "A", Permissions: perms}}})
	assert.NilError(t, err)
	got, err := samePassword.Reauthenticate(prev, id, Credentials{User: "u", Password: "not checked"})
	assert.NilError(t, err)
	assert.Equal(t, got.Account, "A")
	assert.Assert(t, got.Perms.Equal(Compile(perms)))

	newPassword, err := New(Config{Users: []User{{Name: "u", Password: "other"}}})
	assert.NilError(t, err)
	_, err = newPassword.Reauthenticate(prev, id, cr)
	assert.Assert(t, errors.Is(err, ErrNotAuthorized))

	tok, err := New(Config{Token: "t"})
	assert.NilError(t, err)
	_, err = tok.Reauthenticate(prev, id, cr)
	assert.Assert(t, errors.Is(err, ErrNotAuthorized), "users replaced by a token")
	tid, err := tok.Authenticate(Credentials{Token: "t"})
	assert.NilError(t, err)
	tok2, _ := New(Config{Token: "t"})
	_, err = tok2.Reauthenticate(tok, tid, Credentials{Token: "t"})
	assert.NilError(t, err)
	tok3, _ := New(Config{Token: "t2"})
	_, err = tok3.Reauthenticate(tok, tid, Credentials{Token: "t"})
	assert.Assert(t, errors.Is(err, ErrNotAuthorized))
	acc, ok := samePassword.UserAccount("u")
	assert.Assert(t, ok && acc == "A")
	_, ok = samePassword.UserAccount("v")
	assert.Assert(t, !ok)
}
