package conn

import (
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn/subject"
)

// Account is one account at run time: a subject space of its own. Its
// index holds the subscriptions of its clients, the internal
// subscriptions of service imports and responses (which forward what they
// match into another account, see imports.go) and the shadows of other
// accounts' subscriptions that take this account's exported streams; a
// message published in an account is matched against that account's
// index only, so it never reaches another account except through an
// import.
//
// Every subscription enters and leaves an index through [Account.insert]
// and [Account.remove], the one place where interest in an account
// changes.
type Account struct {
	name  string
	Index *subject.Index[*Subscription]
	// router is told every change of the account's interest (nil without
	// a cluster); fixed when the account is made.
	router Router
	// maxSubs is the account's max_subscriptions for each of its
	// connections (0: none of its own), set when the accounts are built.
	maxSubs atomic.Int64

	// replyPrefix ("_R_.xxxxxx.") starts the reply subjects this account's
	// services see on requests that came through service imports; the
	// internal subscription on replyPrefix+">" routes the answers back.
	replyPrefix string

	// streams are the account's stream imports (nil: none), replaced as a
	// whole on reload; hadStreams is set once it ever had some, so that
	// the subscriptions of an account that never imported a stream are
	// removed without looking for shadows.
	streams    atomic.Pointer[[]*streamImport]
	hadStreams atomic.Bool
	// shadowMu guards the shadows of the account's subscriptions
	// (Subscription.shadows, shadowsOf, gone).
	shadowMu sync.Mutex

	mu sync.Mutex
	// pending are the requests this account's services were sent through
	// imports and have not answered yet, by their _R_ reply subject.
	pending   map[string]*pendingReply
	sweepAt   int
	respSub   *Subscription   // the internal subscription on replyPrefix+">", or nil
	importSub []*Subscription // the internal subscriptions this account's service imports placed
}

// pendingReply is where the answer to one imported request goes.
type pendingReply struct {
	to      *Account // the requester's account
	reply   string   // the requester's reply subject there
	rt      account.ResponseType
	expires time.Time
}

// Name returns the account's name.
func (a *Account) Name() string { return a.name }

func newAccount(name string) *Account {
	return &Account{name: name, Index: subject.NewIndex[*Subscription]()}
}

// insert adds s to the account's index and makes it the subscription's
// account; the cluster learns of the new interest. A subscription that
// takes the account's stream imports gets its shadows in the exporting
// accounts (shadow.go). The index keeps substrings of s's subject and
// queue ([subject.Index.InsertOwned]): a Subscription's strings are its
// own and never change.
func (a *Account) insert(s *Subscription) error {
	s.acc = a
	if err := a.Index.InsertOwned(s.subject, s.queue, s); err != nil {
		return err
	}
	if a.router != nil && s.routed() {
		a.router.InterestChanged(a.name, s.subject, s.queue, 1)
	}
	if a.streams.Load() != nil && s.shadowable() {
		a.shadow(s)
	}
	return nil
}

// remove takes s out of the account's index, and its shadows out of the
// exporting accounts; the cluster learns that the interest left.
func (a *Account) remove(s *Subscription) {
	if a.Index.Remove(s.subject, s.queue, s) != nil {
		return
	}
	if a.router != nil && s.routed() {
		a.router.InterestChanged(a.name, s.subject, s.queue, -1)
	}
	if a.hadStreams.Load() && s.shadowable() {
		a.unshadow(s)
	}
}

// Accounts is the set of accounts of a server, by name. It never changes
// once built; a reload builds a new one that keeps the Account values (and
// so the subscriptions) of the accounts that remain. Besides the
// configured accounts it holds the global account and the system account.
type Accounts struct {
	byName map[string]*Account
	order  []*Account
	global *Account
	system *Account
}

// Lookup returns the account named name, or nil.
func (r *Accounts) Lookup(name string) *Account { return r.byName[name] }

// Global returns the global account, $G.
func (r *Accounts) Global() *Account { return r.global }

// System returns the system account, or nil without one.
func (r *Accounts) System() *Account { return r.system }

// Range calls fn for every account, the global one first, until fn
// returns false.
func (r *Accounts) Range(fn func(*Account) bool) {
	for _, a := range r.order {
		if !fn(a) {
			return
		}
	}
}

// NumSubscriptions returns the number of subscriptions in every account's
// index (internal ones included, as nats-server counts them).
func (r *Accounts) NumSubscriptions() int {
	n := 0
	for _, a := range r.order {
		n += a.Index.Count()
	}
	return n
}

// NewAccounts builds the accounts of cfg (valid: [account.Config.Validate])
// plus the global account and, unless system is "", the system account.
// The global account uses globalIndex when it is not nil (the index a
// server made before it had accounts). With prev (a reload) the accounts
// that remain keep their Account values, subscriptions included; the
// imports of prev are removed and those of cfg placed. rt, when not nil,
// is told every change of every account's interest (the cluster's
// [Router]; the same for the life of the server).
func NewAccounts(cfg account.Config, system string, globalIndex *subject.Index[*Subscription], prev *Accounts, rt Router) (*Accounts, error) {
	r := &Accounts{byName: map[string]*Account{}}
	get := func(name string) *Account {
		if a := r.byName[name]; a != nil {
			return a
		}
		var a *Account
		if prev != nil {
			a = prev.byName[name]
		}
		if a == nil {
			a = newAccount(name)
			a.router = rt
			if name == account.Global && globalIndex != nil {
				a.Index = globalIndex
			}
		}
		r.byName[name] = a
		r.order = append(r.order, a)
		return a
	}
	r.global = get(account.Global)
	for _, ac := range cfg.Accounts {
		get(ac.Name)
	}
	if system != "" {
		r.system = get(system)
	}
	// Take the old service imports out, then place the new ones: for a
	// moment during a reload nothing is forwarded, and nothing twice.
	if prev != nil {
		for _, a := range prev.order {
			a.clearImports()
		}
	}
	streams := make(map[*Account][]*streamImport)
	for _, ac := range cfg.Accounts {
		if err := r.placeImports(cfg, ac, streams); err != nil {
			return nil, err
		}
		for _, e := range ac.Exports {
			if e.Kind == account.Service {
				r.byName[ac.Name].ensureResponses()
				break
			}
		}
	}
	// Every account gets its new stream imports (an account no longer
	// configured, none), and its subscriptions their shadows for them.
	for _, a := range r.order {
		a.setStreams(streams[a])
	}
	if prev != nil {
		for _, a := range prev.order {
			if r.byName[a.name] != a {
				a.setStreams(nil)
			}
		}
	}
	for _, a := range r.order {
		var max int
		if ac := cfg.Lookup(a.name); ac != nil {
			max = ac.MaxSubs
		}
		a.maxSubs.Store(int64(max))
	}
	return r, nil
}

// placeImports adds the internal subscriptions of ac's service imports
// and collects its stream imports into streams.
func (r *Accounts) placeImports(cfg account.Config, ac account.Account, streams map[*Account][]*streamImport) error {
	importer := r.byName[ac.Name]
	for _, im := range ac.Imports {
		exporter := r.byName[im.Account]
		expCfg := cfg.Lookup(im.Account)
		if exporter == nil || expCfg == nil {
			return fmt.Errorf("%q account not defined for %s import", im.Account, im.Kind)
		}
		tr, err := im.Transform()
		if err != nil {
			return err
		}
		if im.Kind == account.Stream {
			streams[importer] = append(streams[importer], &streamImport{
				exporter: exporter, from: im.Subject, to: im.LocalSubject(), tr: tr, rev: tr.Reverse(),
			})
			continue
		}
		exp := expCfg.Authorizes(account.Service, im.Subject, ac.Name)
		if exp == nil {
			return fmt.Errorf("Error adding service import %q: service import not authorized", im.Subject)
		}
		h := &importHop{kind: hopService, from: importer, to: exporter, tr: tr, share: im.Share,
			rt: exp.Response, threshold: exp.ResponseThreshold()}
		s := &Subscription{subject: im.LocalSubject(), sid: "import", imp: h}
		if err := importer.insert(s); err != nil {
			return err
		}
		importer.mu.Lock()
		importer.importSub = append(importer.importSub, s)
		importer.mu.Unlock()
	}
	return nil
}

// clearImports removes the internal subscriptions of the account's
// service imports.
func (a *Account) clearImports() {
	a.mu.Lock()
	subs := a.importSub
	a.importSub = nil
	a.mu.Unlock()
	for _, s := range subs {
		s.acc.remove(s)
	}
}

// ensureResponses makes the account able to answer imported requests: its
// reply prefix and the internal subscription that routes answers back.
func (a *Account) ensureResponses() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.respSub != nil {
		return
	}
	a.replyPrefix = "_R_." + randomToken(6) + "."
	a.respSub = &Subscription{subject: a.replyPrefix + ">", sid: "responses", imp: &importHop{kind: hopResponse, to: a}}
	a.insert(a.respSub)
}

// base62 are the characters of reply tokens, as nats-server's.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = base62[int(b[i])%len(base62)]
	}
	return string(b)
}
