package config

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckDatabaseURL checks that a database URL accepted by
// checkDatabaseURL is a postgres URL without a password, and that a refused
// one's error never quotes its password (one of 8 bytes or more: a shorter
// one may be a word of the message).
func FuzzCheckDatabaseURL(f *testing.F) {
	for _, s := range []string{
		"postgres://tributary@db.example:5432/news?sslmode=require",
		"postgresql:///news", "POSTGRES://h", "postgres://u:s3cretpw@h/db",
		"postgres://u@h/db?password=s3cretpw", "postgres://u:s3cretpw@h:port/db",
		"mysql://u:s3cretpw@h/db", "host=h password=s3cretpw", "postgres:opaque",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		err := checkDatabaseURL(in)
		u, perr := url.Parse(in)
		if err == nil {
			if perr != nil || !strings.HasPrefix(strings.ToLower(u.Scheme), "postgres") {
				t.Fatalf("accepted %q, not a postgres URL", in)
			}
			if _, set := u.User.Password(); set || u.Query().Has("password") {
				t.Fatalf("accepted %q, which carries a password", in)
			}
			return
		}
		if perr != nil {
			return
		}
		if pw, set := u.User.Password(); set && len(pw) >= 8 && strings.Contains(err.Error(), pw) {
			t.Fatalf("error %q quotes the password %q", err, pw)
		}
		if pw := u.Query().Get("password"); len(pw) >= 8 && strings.Contains(err.Error(), pw) {
			t.Fatalf("error %q quotes the password %q", err, pw)
		}
	})
}
