package lifecycle

import (
	"crypto/rand"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/auth"
	"github.com/natsd/natsd/conn"
)

// hiddenNoAuthUser is the user nats-server makes up so that anonymous
// clients keep working in the global account when the only configured
// account is the system account (the smallest config for `nats server`
// requests); INFO still says auth_required. Like nats-server's it is
// "nats-" and random characters, the same for the life of the process (so
// a reload keeps its clients).
var hiddenNoAuthUser = "nats-" + randomName(8)

// systemAccount returns the system account's name, or "" without one.
func (o *Options) systemAccount() string {
	if o.NoSystemAccount {
		return ""
	}
	if o.SystemAccount == "" {
		return account.DefaultSystem
	}
	return o.SystemAccount
}

// effectiveAuth returns the authentication configuration the server runs
// with: o.Auth, plus nats-server's hidden no-auth user when the system
// account is the only configured account and no authorization {} block or
// no_auth_user was written.
func (o *Options) effectiveAuth() auth.Config {
	a := o.Auth
	sys := o.systemAccount()
	if len(o.Accounts.Accounts) == 1 && sys != "" && o.Accounts.Accounts[0].Name == sys &&
		a.NoAuthUser == "" && !a.BlockDefined {
		a.Users = append(append([]auth.User(nil), a.Users...), auth.User{Name: hiddenNoAuthUser, Password: hiddenNoAuthUser, Account: account.Global})
		a.NoAuthUser, a.HiddenNoAuthUser = hiddenNoAuthUser, true
	}
	return a
}

// applyAccounts builds the accounts of o and makes them the ones
// connections use. The global account keeps the server's first index.
func (s *Server) applyAccounts(o *Options) error {
	prev := s.shared.Accounts.Load()
	r, err := conn.NewAccounts(o.Accounts, o.systemAccount(), s.shared.Index, prev, s.shared.Router)
	if err != nil {
		return err
	}
	s.shared.Accounts.Store(r)
	return nil
}

func randomName(n int) string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
