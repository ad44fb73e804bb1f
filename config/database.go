package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DatabasePasswordEnv is the environment variable PostgreSQL's clients read
// the password from: with database_password_file, one of the two places
// the password of database comes from.
const DatabasePasswordEnv = "PGPASSWORD"

// errDatabasePassword refuses a database URL with a password, which would
// show wherever the config is printed.
var errDatabasePassword = errors.New("the URL must not carry a password: put it in database_password_file or $" + DatabasePasswordEnv)

// database reads the database key: a postgres:// or postgresql:// URL, ""
// when n is missing (the store is then the bbolt file in data_dir).
func (v *validator) database(n *yaml.Node) string {
	s, n, ok := v.scalar(n, "database")
	if !ok {
		return ""
	}
	if err := checkDatabaseURL(s); err != nil {
		v.addf(n, "database", "%v", err)
		return ""
	}
	return s
}

// checkDatabaseURL checks that s is a PostgreSQL connection URL without a
// password. Its errors quote s redacted (RedactURL).
func checkDatabaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Opaque != "":
		return fmt.Errorf("invalid URL %q: want postgres://USER@HOST:PORT/DB", RedactURL(s))
	case !strings.EqualFold(u.Scheme, "postgres") && !strings.EqualFold(u.Scheme, "postgresql"):
		return fmt.Errorf("invalid URL %q: want a postgres:// or postgresql:// URL (leave database out to keep the bbolt file in data_dir)", RedactURL(s))
	case u.Fragment != "":
		return fmt.Errorf("invalid URL %q: no fragment allowed", RedactURL(s))
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		return errDatabasePassword
	}
	return nil
}

// databasePassword reads database_password_file, which needs database:
// the password, less one trailing newline.
func (v *validator) databasePassword(n *yaml.Node, database *yaml.Node) Secret {
	file, n, ok := v.scalar(n, "database_password_file")
	if !ok {
		return ""
	}
	if d := resolve(database); d == nil || isNull(d) {
		v.addf(n, "database_password_file", "needs database (a postgres:// URL)")
		return ""
	}
	pw, err := v.readSecretFile(file)
	if err != nil {
		v.addf(n, "database_password_file", "%v", err)
		return ""
	}
	return pw
}
