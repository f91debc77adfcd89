// Package auth decides who a client is and what it may do: nats-server's
// configuration-based authentication (token, single user, users with plain
// or bcrypt passwords, nkey users with signed nonces, no_auth_user, users
// named by their TLS certificate) and authorization (publish and subscribe
// allow/deny lists, allow_responses).
//
// It is pure: credentials and subjects go in, a verdict comes out. It does
// no I/O, starts no goroutine, takes no lock of a connection and reads no
// clock (the callers pass the time). Connections (package conn) hold the
// verdicts and ask the questions on their own goroutines.
//
// # Invariants
//
//  1. An [Authenticator] and a [Perms] never change after they are built;
//     a configuration reload builds new ones, so a connection that holds
//     one sees either the old rules or the new ones, never a mix.
//  2. [Authenticator.Authenticate] fails closed: anything it does not
//     recognise as valid credentials is an error; it never returns an
//     identity together with an error.
//  3. A nil *Perms allows everything and costs nothing to ask; a Perms
//     whose lists are absent allows that direction without matching.
//  4. Permission subjects are matched as nats-server's sublists match
//     them: the tokens of the subject asked about (even '*' and '>') are
//     taken literally, the permission's wildcards match them.
//  5. A [PubCache] and a [Replies] belong to one connection and are not
//     safe for concurrent use; the connection decides which lock, if any,
//     guards them.
package auth
