package auth

import (
	"crypto/subtle"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcryptPrefix is how nats-server recognises a bcrypt hash.
var bcryptPrefix = regexp.MustCompile(`^\$2[abxy]\$\d{2}\$.*`)

// IsBcrypt reports whether a configured password or token is a bcrypt
// hash.
func IsBcrypt(s string) bool {
	return strings.HasPrefix(s, "$") && bcryptPrefix.MatchString(s)
}

// comparePassword reports whether the client's password matches the
// configured one: a bcrypt hash is verified, a plain password compared in
// constant time.
func comparePassword(configured, given string) bool {
	if IsBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(given)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(configured), []byte(given)) == 1
}
