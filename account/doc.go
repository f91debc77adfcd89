// Package account holds the rules of nats-server's multi-tenancy: the
// accounts {} configuration (each account a subject space of its own), its
// exports and imports, the checks nats-server applies to them and the
// subject transforms an import applies. It is pure: no I/O, no goroutines,
// no locks; the accounts that carry subscriptions at run time live in
// package conn.
//
// # Why two packages
//
// An account at run time owns the subject index of its connections'
// subscriptions, and its imports are subscriptions that forward messages
// into another account: both are values of package conn. Were the run-time
// account here, this package would import conn for its subscription type
// while conn imports this package to follow the imports: a cycle. So the
// split is by purity: this package decides what a configuration means and
// whether it is valid (what nats-server refuses, with its texts); conn's
// Account and Accounts (conn/account.go) hold the index and act on the
// decisions. The server (lifecycle) composes the two.
//
// # Invariants
//
//  1. A [Config] that passes [Config.Validate] names only defined accounts
//     in its imports and export account lists, has no import its exporter
//     does not authorize, and no chain of service imports that leads back
//     to where it started.
//  2. [Transform.Apply] is total on the subjects its source pattern
//     matches and never allocates more than the result.
//  3. The global account [Global] exists implicitly and cannot be
//     configured.
package account
