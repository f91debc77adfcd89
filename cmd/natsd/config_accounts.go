package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/auth"
)

// This file reads nats-server's accounts {} block (each account's users,
// exports and imports) into lifecycle.Options.Accounts, and the users into
// Options.Auth with their account. Keys of account features natsd does not
// implement (jetstream, mappings, limits, tracing, service latency) are
// refused by name.

// setAccounts reads accounts: [A, B] or accounts { A { ... } B { ... } }.
func setAccounts(s *settings, blk entry) error {
	cfg := &s.Server.Accounts
	if s.authAt.file == "" {
		s.authAt = blk
	}
	switch v := blk.v.(type) {
	case []any:
		for _, raw := range v {
			n, file, line, _ := unwrap(raw, blk.file, blk.line)
			name, ok := n.(string)
			if !ok {
				return (entry{file: file, line: line}).errHere(fmt.Sprintf("Expected an account name, got %s", describe(n)))
			}
			if err := addAccount(cfg, account.Account{Name: name}, entry{file: file, line: line}); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for _, e := range entries(v, blk.file, blk.line) {
			if e.used {
				continue
			}
			if err := parseAccount(s, e); err != nil {
				return err
			}
		}
		return nil
	}
	return blk.errAt(fmt.Errorf("expected a list of names or a block, got %s", describe(blk.v)))
}

func addAccount(cfg *account.Config, a account.Account, at entry) error {
	if a.Name == account.Global {
		return at.errHere(fmt.Sprintf("%q is a Reserved Account", a.Name))
	}
	if cfg.Lookup(a.Name) != nil {
		return at.errHere(fmt.Sprintf("Duplicate Account Entry: %s", a.Name))
	}
	cfg.Accounts = append(cfg.Accounts, a)
	return nil
}

// parseAccount reads one account's block.
func parseAccount(s *settings, e entry) error {
	m, ok := e.v.(map[string]any)
	if !ok {
		return e.errHere("Expected map entries for accounts")
	}
	a := account.Account{Name: e.key}
	var (
		users    []auth.User
		defaults *auth.Permissions
	)
	for _, f := range entries(m, e.file, e.line) {
		var err error
		switch f.name {
		case "nkey":
			a.Nkey, err = asString(f.v)
		case "users":
			users, err = parseUsers(f)
		case "default_permissions":
			defaults, err = parsePermissions(f)
		case "exports":
			a.Exports, err = parseExports(f)
		case "imports":
			a.Imports, err = parseImports(f)
		case "limits":
			err = parseAccountLimits(f, &a)
		case "jetstream", "mappings", "maps", "msg_trace", "trace_dest":
			return (&entry{key: "account " + f.key, file: f.file, line: f.line}).unsupported("")
		default:
			if f.used {
				continue
			}
			return f.unknownField()
		}
		if err != nil {
			return f.errAt(err)
		}
	}
	if err := addAccount(&s.Server.Accounts, a, e); err != nil {
		return err
	}
	applyDefaultPermissions(users, defaults)
	for i := range users {
		users[i].Account = a.Name
	}
	s.Server.Auth.Users = append(s.Server.Auth.Users, users...)
	return nil
}

// parseAccountLimits reads an account's limits { max_subscriptions }; the
// other limits nats-server knows are refused by name.
func parseAccountLimits(e entry, a *account.Account) error {
	m, ok := e.v.(map[string]any)
	if !ok {
		return e.errHere(fmt.Sprintf("Expected account limits to be a map/struct, got %s", describe(e.v)))
	}
	for _, f := range entries(m, e.file, e.line) {
		switch f.name {
		case "max_subscriptions", "max_subs":
			n, err := asInt(f.v)
			if err != nil {
				return f.errAt(err)
			}
			a.MaxSubs = int(n)
		case "max_connections", "max_conn", "max_payload", "max_pay", "max_leafnodes", "max_leafs":
			return (&entry{key: "account limits " + f.key, file: f.file, line: f.line}).unsupported("")
		default:
			if f.used {
				continue
			}
			return f.unknownField()
		}
	}
	return nil
}

// parseExports reads exports: [{stream: x}, {service: y, accounts: [...]}].
func parseExports(e entry) ([]account.Export, error) {
	list, ok := e.v.([]any)
	if !ok {
		return nil, e.errHere(fmt.Sprintf("Exports should be an array, got %T", e.v))
	}
	var out []account.Export
	for _, raw := range list {
		v, file, line, _ := unwrap(raw, e.file, e.line)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, (entry{file: file, line: line}).errHere(fmt.Sprintf("Export Items should be a map with type entry, got %T", v))
		}
		var (
			ex           account.Export
			kind         string
			responseSeen bool
		)
		for _, f := range entries(m, file, line) {
			switch f.name {
			case "stream", "service":
				if kind != "" {
					return nil, f.errHere(fmt.Sprintf("Detected %s %q but already saw a %s", f.name, f.v, kind))
				}
				subj, ok := f.v.(string)
				if !ok {
					return nil, f.errHere(fmt.Sprintf("Expected %s name to be string, got %T", f.name, f.v))
				}
				kind, ex.Subject = f.name, subj
			case "accounts":
				names, err := stringList(f.v)
				if err != nil {
					return nil, f.errAt(err)
				}
				ex.Accounts = names
			case "response", "response_type":
				responseSeen = true
				str, ok := f.v.(string)
				if !ok {
					return nil, f.errHere(fmt.Sprintf("Expected response type to be string, got %T", f.v))
				}
				switch strings.ToLower(str) {
				case "single", "singleton":
					ex.Response = account.Singleton
				case "stream":
					ex.Response = account.Streamed
				case "chunk", "chunked":
					ex.Response = account.Chunked
				default:
					if f.used {
						continue
					}
					return nil, f.errHere(fmt.Sprintf("Unknown response type: %q", str))
				}
			case "threshold", "response_threshold", "response_max_time", "response_time":
				responseSeen = true
				str, ok := f.v.(string)
				if !ok {
					return nil, f.errHere(fmt.Sprintf("Expected response threshold to be a parseable time duration, got %T", f.v))
				}
				d, err := time.ParseDuration(str)
				if err != nil {
					return nil, f.errHere(fmt.Sprintf("Expected response threshold to be a parseable time duration, got %q", str))
				}
				ex.Threshold = d
			case "latency", "account_token_position", "allow_trace":
				return nil, (&entry{key: "export " + f.key, file: f.file, line: f.line}).unsupported("")
			default:
				if f.used {
					continue
				}
				return nil, f.unknownField()
			}
		}
		at := entry{file: file, line: line}
		switch kind {
		case "":
			return nil, at.errHere("Export Items should be a map with type entry (stream or service)")
		case "stream":
			if responseSeen {
				return nil, at.errHere("Detected response directive on non-service")
			}
			ex.Kind = account.Stream
		default:
			ex.Kind = account.Service
		}
		out = append(out, ex)
	}
	return out, nil
}

// parseImports reads imports: [{stream: {account, subject}, prefix}, ...].
func parseImports(e entry) ([]account.Import, error) {
	list, ok := e.v.([]any)
	if !ok {
		return nil, e.errHere(fmt.Sprintf("Imports should be an array, got %T", e.v))
	}
	var out []account.Import
	for _, raw := range list {
		v, file, line, _ := unwrap(raw, e.file, e.line)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, (entry{file: file, line: line}).errHere(fmt.Sprintf("Import Items should be a map with type entry, got %T", v))
		}
		var (
			im   account.Import
			kind string
		)
		for _, f := range entries(m, file, line) {
			switch f.name {
			case "stream", "service":
				if kind != "" {
					return nil, f.errHere(fmt.Sprintf("Detected %s but already saw a %s", f.name, kind))
				}
				kind = f.name
				src, ok := f.v.(map[string]any)
				if !ok {
					return nil, f.errHere(fmt.Sprintf("%s entry should be an account map, got %T", strings.ToUpper(f.name[:1])+f.name[1:], f.v))
				}
				for _, g := range entries(src, f.file, f.line) {
					var err error
					switch g.name {
					case "account":
						im.Account, err = asString(g.v)
					case "subject":
						im.Subject, err = asString(g.v)
					default:
						if g.used {
							continue
						}
						return nil, g.unknownField()
					}
					if err != nil {
						return nil, g.errAt(err)
					}
				}
				if im.Account == "" || im.Subject == "" {
					return nil, f.errHere("Expect an account name and a subject")
				}
			case "prefix":
				str, err := asString(f.v)
				if err != nil {
					return nil, f.errAt(err)
				}
				im.Prefix = str
			case "to":
				str, err := asString(f.v)
				if err != nil {
					return nil, f.errAt(err)
				}
				im.To = str
			case "share":
				b, ok := f.v.(bool)
				if !ok {
					return nil, f.errAt(fmt.Errorf("expected a boolean, got %s", describe(f.v)))
				}
				im.Share = b
			case "allow_trace":
				return nil, (&entry{key: "import " + f.key, file: f.file, line: f.line}).unsupported("")
			default:
				if f.used {
					continue
				}
				return nil, f.unknownField()
			}
		}
		at := entry{file: file, line: line}
		switch kind {
		case "":
			return nil, at.errHere("Import Items should be a map with type entry (stream or service)")
		case "stream":
			im.Kind = account.Stream
			if im.Prefix != "" && im.To != "" {
				return nil, at.errHere("Stream import can not have a 'prefix' and a 'to' property")
			}
		default:
			im.Kind = account.Service
			if im.Prefix != "" {
				return nil, at.errHere("Detected prefix directive on a service import")
			}
		}
		out = append(out, im)
	}
	return out, nil
}
