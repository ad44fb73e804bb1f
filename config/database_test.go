package config_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

func TestDatabase(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", "s3cretpw\n")
	tests := []struct {
		name, src    string
		wantDatabase string
		wantPassword config.Secret
	}{
		{"absent: bbolt in data_dir", "", "", ""},
		{"postgres URL", "database: postgres://tributary@db.example:5432/news?sslmode=require\n",
			"postgres://tributary@db.example:5432/news?sslmode=require", ""},
		{"postgresql URL, password from a file", "database: postgresql://tributary@db.example/news\ndatabase_password_file: pw\n",
			"postgresql://tributary@db.example/news", "s3cretpw"},
		{"host from $PGHOST", "database: postgres:///news\n", "postgres:///news", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(writeFile(t, dir, "t.yaml", tt.src+"feeds:\n  - url: https://example.com/feed\n"))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database != tt.wantDatabase || cfg.DatabasePassword != tt.wantPassword {
				t.Errorf("Database, DatabasePassword = %q, %q; want %q, %q",
					cfg.Database, cfg.DatabasePassword.Reveal(), tt.wantDatabase, tt.wantPassword.Reveal())
			}
			var logged strings.Builder
			slog.New(slog.NewTextHandler(&logged, nil)).Info("config", slog.Any("config", cfg))
			for _, shown := range []string{fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), logged.String()} {
				if strings.Contains(shown, "s3cretpw") {
					t.Errorf("%q shows the database password", shown)
				}
			}
		})
	}
}

func TestDatabaseErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty", "\n")
	tests := []struct {
		name, src string
		want      []string
	}{
		{"other scheme", "database: mysql://u@db.example/news",
			[]string{`t.yaml:1: database: invalid URL "mysql://db.example/news": want a postgres:// or postgresql:// URL (leave database out to keep the bbolt file in data_dir)`}},
		{"a file path", "database: /var/lib/tributary/tributary.db",
			[]string{`t.yaml:1: database: invalid URL "/var/lib/tributary/tributary.db": want a postgres:// or postgresql:// URL (leave database out to keep the bbolt file in data_dir)`}},
		{"key/value string", "database: host=db.example dbname=news",
			[]string{`t.yaml:1: database: invalid URL "host=db.example dbname=news": want a postgres:// or postgresql:// URL (leave database out to keep the bbolt file in data_dir)`}},
		{"password in the userinfo, not quoted back", "database: postgres://u:s3cretpw@db.example/news",
			[]string{`t.yaml:1: database: the URL must not carry a password: put it in database_password_file or $PGPASSWORD`}},
		{"password in the query, not quoted back", "database: postgres://u@db.example/news?password=s3cretpw",
			[]string{`t.yaml:1: database: the URL must not carry a password: put it in database_password_file or $PGPASSWORD`}},
		{"unparsable, not quoted back", "database: \"postgres://u:s3cretpw@db.example:port/news\"",
			[]string{`t.yaml:1: database: invalid URL "[unparsable URL]": want postgres://USER@HOST:PORT/DB`}},
		{"a list", "database: [postgres://db.example/news]",
			[]string{`t.yaml:1: database: must be a single value, not a list or mapping`}},
		{"password file without database", "database_password_file: empty",
			[]string{`t.yaml:1: database_password_file: needs database (a postgres:// URL)`}},
		{"missing password file", "database: postgres://u@db.example/news\ndatabase_password_file: missing",
			[]string{`t.yaml:2: database_password_file: read secret: open ` + filepath.Join(dir, "missing") + `: no such file or directory`}},
		{"empty password file", "database: postgres://u@db.example/news\ndatabase_password_file: empty",
			[]string{`t.yaml:2: database_password_file: read secret: ` + filepath.Join(dir, "empty") + ` is empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, dir, "t.yaml", tt.src+"\nfeeds:\n  - url: https://example.com/feed\n"))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				got = append(got, strings.TrimPrefix(line, dir+string(filepath.Separator)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}
