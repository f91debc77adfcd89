package account

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/natsd/natsd/conn/subject"
)

// Global is the default account: clients of users that name no account,
// and every client of a server without accounts.
const Global = "$G"

// DefaultSystem is the system account's default name.
const DefaultSystem = "$SYS"

// DefaultResponseThreshold is how long an exported service may take to
// answer before the server forgets the request, as nats-server's.
const DefaultResponseThreshold = 2 * time.Minute

// Config is the accounts {} block.
type Config struct {
	Accounts []Account
}

// Account is one configured account. Its users are part of the
// authentication configuration (package auth), where each names it.
type Account struct {
	Name    string
	Nkey    string // the account's public nkey, if given (unused without operators)
	Exports []Export
	Imports []Import
	// MaxSubs (limits { max_subscriptions }) caps the subscriptions of each
	// connection of the account, as nats-server's account limit does; 0
	// or less: no limit of the account's own.
	MaxSubs int
}

// Kind tells streams from services.
type Kind int

const (
	// Stream: messages published on the subject in the exporting account
	// are delivered to the importing account's subscribers.
	Stream Kind = iota
	// Service: requests published in the importing account are delivered
	// to the exporting account's responders, and their replies come back.
	Service
)

func (k Kind) String() string {
	if k == Service {
		return "service"
	}
	return "stream"
}

// ResponseType is how a service answers a request.
type ResponseType int

const (
	// Singleton: one reply per request (the default).
	Singleton ResponseType = iota
	// Streamed: any number of replies, until the response threshold.
	Streamed
	// Chunked: a reply in chunks, until an empty message or the threshold.
	Chunked
)

func (r ResponseType) String() string {
	switch r {
	case Streamed:
		return "Stream"
	case Chunked:
		return "Chunked"
	}
	return "Singleton"
}

// Export is one stream or service an account offers.
type Export struct {
	Kind    Kind
	Subject string
	// Accounts may import it; nil: every account.
	Accounts []string
	// Response and Threshold apply to services.
	Response  ResponseType
	Threshold time.Duration // 0: DefaultResponseThreshold
}

// Import is one stream or service an account takes from another.
type Import struct {
	Kind Kind
	// Account is the exporting account; Subject the subject there.
	Account string
	Subject string
	// To is, for a stream, the subject the importing account's subscribers
	// see (wildcards filled in order from Subject's); for a service, the
	// subject the importing account's clients publish requests to. "":
	// Subject.
	To string
	// Prefix (streams only) is prepended to the subject instead.
	Prefix string
	// Share (services) passes the requester's full client information to
	// the service in Nats-Request-Info.
	Share bool
}

// LocalSubject returns the subject an import is seen under in the
// importing account: for a stream what subscribers there match (with the
// prefix, or To), for a service what requesters there publish to.
func (im *Import) LocalSubject() string {
	switch {
	case im.Prefix != "":
		p := im.Prefix
		if !strings.HasSuffix(p, ".") {
			p += "."
		}
		return p + im.Subject
	case im.To != "":
		return im.To
	}
	return im.Subject
}

// Transform returns the mapping an import applies to a subject: for a
// stream, from the exporter's subject to the importer's; for a service,
// from the subject a requester published to the exporter's subject.
func (im *Import) Transform() (Transform, error) {
	if im.Kind == Stream {
		from, to := im.Subject, im.LocalSubject()
		if hasWildcard(from) && !hasWildcard(to) {
			return Transform{}, fmt.Errorf("failed to create mapping transform for stream import subject from %q to %q: the destination uses no wildcard of the source", from, to)
		}
		return NewTransform(from, to)
	}
	return NewTransform(im.LocalSubject(), im.Subject)
}

// Lookup returns the account named name, or nil.
func (c *Config) Lookup(name string) *Account {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			return &c.Accounts[i]
		}
	}
	return nil
}

// Names returns the configured account names, in configuration order.
func (c *Config) Names() []string {
	out := make([]string, len(c.Accounts))
	for i := range c.Accounts {
		out[i] = c.Accounts[i].Name
	}
	return out
}

// Validate reports the first problem of the configuration that nats-server
// refuses too, with its text.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for _, a := range c.Accounts {
		if a.Name == Global {
			return fmt.Errorf("%q is a Reserved Account", a.Name)
		}
		if a.Name == "" {
			return fmt.Errorf("account without a name")
		}
		if seen[a.Name] {
			return fmt.Errorf("Duplicate Account Entry: %s", a.Name)
		}
		seen[a.Name] = true
	}
	for _, a := range c.Accounts {
		for _, e := range a.Exports {
			if !subject.ValidSubject(e.Subject) {
				return fmt.Errorf("Error adding %s export %q: invalid subject", e.Kind, e.Subject)
			}
			for _, n := range e.Accounts {
				if !seen[n] {
					return fmt.Errorf("%q account not defined for %s export", n, e.Kind)
				}
			}
		}
	}
	for _, a := range c.Accounts {
		for i, im := range a.Imports {
			if err := c.validateImport(&a, &a.Imports[i]); err != nil {
				return err
			}
			for _, prev := range a.Imports[:i] {
				if im.Kind == Stream && prev.Kind == Stream && prev.Account == im.Account && prev.Subject == im.Subject {
					return fmt.Errorf("Error adding stream import %q: stream import already exists", im.Subject)
				}
			}
		}
	}
	for _, a := range c.Accounts {
		for _, im := range a.Imports {
			if im.Kind == Service && c.serviceCycle(a.Name, im, map[string]bool{a.Name: true}, 0) {
				return fmt.Errorf("Error adding service import %q: import forms a cycle", im.Subject)
			}
		}
	}
	return nil
}

func (c *Config) validateImport(a *Account, im *Import) error {
	exp := c.Lookup(im.Account)
	if exp == nil {
		return fmt.Errorf("%q account not defined for %s import", im.Account, im.Kind)
	}
	if !subject.ValidSubject(im.Subject) || (im.To != "" && !subject.ValidSubject(im.To)) {
		return fmt.Errorf("Error adding %s import %q: invalid subject", im.Kind, im.Subject)
	}
	if im.Prefix != "" {
		if im.Kind != Stream {
			return fmt.Errorf("Error adding service import %q: a service import takes no prefix", im.Subject)
		}
		if !subject.ValidLiteralSubject(strings.TrimSuffix(im.Prefix, ".")) {
			return fmt.Errorf("Error adding stream import %q: stream import prefix can not contain wildcard tokens", im.Subject)
		}
	}
	if exp.Authorizes(im.Kind, im.Subject, a.Name) == nil {
		return fmt.Errorf("Error adding %s import %q: %s import not authorized", im.Kind, im.Subject, im.Kind)
	}
	if _, err := im.Transform(); err != nil {
		return fmt.Errorf("Error adding %s import %q: %v", im.Kind, im.Subject, err)
	}
	return nil
}

// Authorizes returns the export of a that lets account importer import
// subject as kind, or nil: an export whose subject is subject or covers it
// (the import may be narrower than the export, never wider), open to every
// account or listing importer.
func (a *Account) Authorizes(kind Kind, subj, importer string) *Export {
	for i := range a.Exports {
		e := &a.Exports[i]
		if e.Kind == kind && e.Subject == subj && e.allows(importer) {
			return e
		}
	}
	for i := range a.Exports {
		e := &a.Exports[i]
		if e.Kind == kind && subsetMatch(subj, e.Subject) && e.allows(importer) {
			return e
		}
	}
	return nil
}

func (e *Export) allows(acc string) bool {
	return e.Accounts == nil || slices.Contains(e.Accounts, acc)
}

// ResponseThreshold returns the export's threshold or the default.
func (e *Export) ResponseThreshold() time.Duration {
	if e.Threshold > 0 {
		return e.Threshold
	}
	return DefaultResponseThreshold
}

// serviceCycle reports whether the requests of service import im (of
// account from) can come back to an account already visited through the
// exporter's own service imports.
func (c *Config) serviceCycle(from string, im Import, visited map[string]bool, depth int) bool {
	if depth > 64 {
		return true
	}
	exp := c.Lookup(im.Account)
	if exp == nil {
		return false
	}
	for _, next := range exp.Imports {
		if next.Kind != Service || !collide(next.LocalSubject(), im.Subject) {
			continue
		}
		if visited[next.Account] {
			return true
		}
		visited[next.Account] = true
		if c.serviceCycle(exp.Name, next, visited, depth+1) {
			return true
		}
		delete(visited, next.Account)
	}
	return false
}
