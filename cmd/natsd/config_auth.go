package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/natsd/natsd/auth"
)

// This file reads nats-server's authorization {} block, its users and
// permissions, into lifecycle.Options.Auth, with nats-server's key names
// and error texts. Unknown keys are errors; keys of auth features natsd
// does not implement (auth_callout, proxy_required) are refused by name.

// setAuthorization reads the authorization {} block.
func setAuthorization(s *settings, blk entry) error {
	m, ok := blk.v.(map[string]any)
	if !ok {
		return blk.errAt(fmt.Errorf("expected a block, got %s", describe(blk.v)))
	}
	a := &s.Server.Auth
	a.BlockDefined = true
	s.authAt = blk
	var (
		users    []auth.User
		defaults *auth.Permissions
		hasUsers bool
	)
	for _, e := range entries(m, blk.file, blk.line) {
		var err error
		switch e.name {
		case "user", "username":
			a.User, err = asString(e.v)
		case "pass", "password":
			a.Password, err = asString(e.v)
		case "token":
			a.Token, err = asString(e.v)
		case "timeout":
			a.Timeout, err = authTimeout(s, e)
		case "users":
			hasUsers = true
			users, err = parseUsers(e)
		case "default_permission", "default_permissions", "permissions":
			defaults, err = parsePermissions(e)
		case "auth_callout", "auth_hook", "proxy_required":
			return (&entry{key: "authorization " + e.key, file: e.file, line: e.line}).unsupported("")
		default:
			if e.used {
				continue
			}
			return e.unknownField()
		}
		if err != nil {
			return e.errAt(err)
		}
	}
	if (a.User != "" || a.Password != "") && a.Token != "" {
		return blk.errHere("Cannot have a user/pass and token")
	}
	if hasUsers && a.User != "" {
		return blk.errHere("Can not have a single user/pass and a users array")
	}
	if hasUsers && a.Token != "" {
		return blk.errHere("Can not have a token and a users array")
	}
	applyDefaultPermissions(users, defaults)
	a.Users = append(a.Users, users...)
	return nil
}

// errHere is an error located at the entry, without the key as a prefix
// (nats-server's block-level messages).
func (e entry) errHere(msg string) error {
	return &configError{file: e.file, line: e.line, msg: msg}
}

// authTimeout reads authorization { timeout }: seconds (an integer or a
// number) or a duration string. Over a minute is allowed with nats-server's
// warning.
func authTimeout(s *settings, e entry) (time.Duration, error) {
	var d time.Duration
	switch v := e.v.(type) {
	case int64:
		d = time.Duration(v) * time.Second
	case float64:
		d = time.Duration(v * float64(time.Second))
	case string:
		p, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("error parsing authorization config, 'timeout' %v", err)
		}
		d = p
	default:
		return 0, fmt.Errorf("error parsing authorization config, 'timeout' wrong type")
	}
	if d > time.Minute {
		s.warnings = append(s.warnings, fmt.Sprintf("%s:%d: timeout of %v is high, consider keeping it under 60 seconds", e.file, e.line, d))
	}
	return d, nil
}

// applyDefaultPermissions gives the users without permissions of their own
// their block's default permissions.
func applyDefaultPermissions(users []auth.User, p *auth.Permissions) {
	if p == nil {
		return
	}
	for i := range users {
		if users[i].Permissions == nil {
			users[i].Permissions = p
		}
	}
}

// parseUsers reads a users: [...] list.
func parseUsers(e entry) ([]auth.User, error) {
	list, ok := e.v.([]any)
	if !ok {
		return nil, e.errHere(fmt.Sprintf("Expected users field to be an array, got %v", e.v))
	}
	users := []auth.User{}
	for _, raw := range list {
		v, file, line, _ := unwrap(raw, e.file, e.line)
		um, ok := v.(map[string]any)
		if !ok {
			return nil, (entry{file: file, line: line}).errHere(fmt.Sprintf("Expected user entry to be a map/struct, got %v", v))
		}
		var u auth.User
		for _, f := range entries(um, file, line) {
			var err error
			switch f.name {
			case "nkey":
				u.Nkey, err = asString(f.v)
			case "user", "username":
				u.Name, err = asString(f.v)
			case "pass", "password":
				u.Password, err = asString(f.v)
			case "permission", "permissions", "authorization":
				u.Permissions, err = parsePermissions(f)
			case "allowed_connection_types", "connection_types", "clients":
				u.ConnectionTypes, err = stringList(f.v)
			case "proxy_required":
				return nil, (&entry{key: "user " + f.key, file: f.file, line: f.line}).unsupported("")
			default:
				if f.used {
					continue
				}
				return nil, f.unknownField()
			}
			if err != nil {
				return nil, f.errAt(err)
			}
		}
		u.ConnectionTypes = upper(u.ConnectionTypes)
		if err := validateUser(u); err != nil {
			return nil, (entry{file: file, line: line}).errHere(err.Error())
		}
		users = append(users, u)
	}
	return users, nil
}

// validateUser applies nats-server's checks of one user entry.
func validateUser(u auth.User) error {
	c := auth.Config{Users: []auth.User{u}}
	return c.Validate()
}

func upper(ss []string) []string {
	for i := range ss {
		ss[i] = strings.ToUpper(ss[i])
	}
	return ss
}

// parsePermissions reads a permissions {} block.
func parsePermissions(e entry) (*auth.Permissions, error) {
	m, ok := e.v.(map[string]any)
	if !ok {
		return nil, e.errHere(fmt.Sprintf("Expected permissions to be a map/struct, got %+v", e.v))
	}
	p := &auth.Permissions{}
	for _, f := range entries(m, e.file, e.line) {
		var err error
		switch f.name {
		case "pub", "publish", "import":
			p.Publish, err = parseSubjectPermission(f, false)
		case "sub", "subscribe", "export":
			p.Subscribe, err = parseSubjectPermission(f, true)
		case "publish_allow_responses", "allow_responses":
			p.Response, err = parseAllowResponses(f)
		default:
			if f.used {
				continue
			}
			return nil, f.errHere(fmt.Sprintf("Unknown field %q parsing permissions", f.key))
		}
		if err != nil {
			return nil, err
		}
	}
	return p.WithResponseDefaults(), nil
}

// parseSubjectPermission reads a subject list, or an {allow, deny} block.
func parseSubjectPermission(e entry, allowQueue bool) (*auth.SubjectPermission, error) {
	m, isMap := e.v.(map[string]any)
	if !isMap {
		subjects, err := permSubjects(e, allowQueue)
		if err != nil {
			return nil, err
		}
		return &auth.SubjectPermission{Allow: subjects}, nil
	}
	if len(m) == 0 {
		return nil, nil
	}
	sp := &auth.SubjectPermission{}
	for _, f := range entries(m, e.file, e.line) {
		var err error
		switch f.name {
		case "allow":
			sp.Allow, err = permSubjects(f, allowQueue)
		case "deny":
			sp.Deny, err = permSubjects(f, allowQueue)
		default:
			if f.used {
				continue
			}
			return nil, f.errHere(fmt.Sprintf("Unknown field name %q parsing subject permissions, only 'allow' or 'deny' are permitted", f.key))
		}
		if err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// permSubjects reads a subject or a list of subjects and checks them as
// nats-server does.
func permSubjects(e entry, allowQueue bool) ([]string, error) {
	var subjects []string
	switch v := e.v.(type) {
	case string:
		subjects = []string{v}
	case []any:
		subjects = []string{}
		for _, raw := range v {
			s, file, line, _ := unwrap(raw, e.file, e.line)
			str, ok := s.(string)
			if !ok {
				return nil, (entry{file: file, line: line}).errHere("Subject in permissions array cannot be cast to string")
			}
			subjects = append(subjects, str)
		}
	default:
		return nil, e.errHere(fmt.Sprintf("Expected subject permissions to be a subject, or array of subjects, got %T", e.v))
	}
	p := auth.Permissions{Publish: &auth.SubjectPermission{Allow: subjects}}
	if allowQueue {
		p = auth.Permissions{Subscribe: &auth.SubjectPermission{Allow: subjects}}
	}
	if err := p.Validate(); err != nil {
		return nil, e.errHere(err.Error())
	}
	return subjects, nil
}

// parseAllowResponses reads allow_responses: true, or {max, expires}.
func parseAllowResponses(e entry) (*auth.ResponsePermission, error) {
	if b, ok := e.v.(bool); ok {
		if !b {
			return nil, nil
		}
		return &auth.ResponsePermission{}, nil
	}
	m, ok := e.v.(map[string]any)
	if !ok {
		return nil, e.errHere("error parsing response permissions, expected a boolean or a map")
	}
	rp := &auth.ResponsePermission{}
	for _, f := range entries(m, e.file, e.line) {
		switch f.name {
		case "max", "max_msgs", "max_messages", "max_responses":
			n, err := asInt(f.v)
			if err != nil {
				return nil, f.errAt(err)
			}
			rp.MaxMsgs = int(n)
		case "expires", "expiration", "ttl":
			str, ok := f.v.(string)
			if !ok {
				return nil, f.errHere("error parsing expires, not a duration string")
			}
			d, err := time.ParseDuration(str)
			if err != nil {
				return nil, f.errHere(fmt.Sprintf("error parsing expires: %v", err))
			}
			rp.Expires = d
		default:
			if f.used {
				continue
			}
			return nil, f.errHere(fmt.Sprintf("Unknown field %q parsing permissions", f.key))
		}
	}
	return rp, nil
}

// setNoAuthUser reads no_auth_user.
func setNoAuthUser(s *settings, v any) error {
	str, err := asString(v)
	s.Server.Auth.NoAuthUser = str
	return err
}

// stringList reads a string or a list of strings.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, raw := range x {
			s, _, _, _ := unwrap(raw, "", 0)
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("expected a list of strings, got %s", describe(s))
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings, got %s", describe(v))
}
