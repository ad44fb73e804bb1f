package config_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", "s3cretpw\n")
	writeFile(t, dir, "apikey", "key-from-file\r\n")
	t.Setenv("TRIBUTARY_TEST_TOKEN", "tok123")
	src := `feeds:
  - url: https://example.com/private.xml
    public_url: https://example.com/about
    auth: {username: alice, password_file: pw}
    headers:
      x-api-key: file:apikey
      X-Token: env:TRIBUTARY_TEST_TOKEN
      Accept-Language: fr
`
	cfg, err := config.Load(writeFile(t, dir, "t.yaml", src))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Feeds[0]
	if f.PublicURL != "https://example.com/about" || f.PublishedURL() != "https://example.com/about" {
		t.Errorf("PublicURL = %q, PublishedURL() = %q", f.PublicURL, f.PublishedURL())
	}
	if diff := cmp.Diff(&config.BasicAuth{Username: "alice", Password: "s3cretpw"}, f.Auth); diff != "" {
		t.Errorf("Auth (-want +got):\n%s", diff)
	}
	want := map[string]config.Secret{"X-Api-Key": "key-from-file", "X-Token": "tok123", "Accept-Language": "fr"}
	if diff := cmp.Diff(want, f.Headers); diff != "" {
		t.Errorf("Headers (-want +got):\n%s", diff)
	}

	// A Config printed or logged by mistake shows no secret.
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", slog.Any("feed", f.Auth.Password), slog.Any("headers", f.Headers))
	for _, shown := range []string{fmt.Sprintf("%v %+v %#v %s %q", f, f, f, f.Auth.Password, f.Auth.Password), logged.String()} {
		for _, secret := range []string{"s3cretpw", "tok123", "key-from-file"} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shows the secret %q", shown, secret)
			}
		}
	}
}

func TestPublishedURL(t *testing.T) {
	cfg, err := parse(t, `feeds:
  - url: http://alice:s3cretpw@example.com/feed?token=tok123&page=1
  - url: https://example.com/other
`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Feeds[0].PublishedURL(), "http://example.com/feed?token=REDACTED&page=1"; got != want {
		t.Errorf("PublishedURL() = %q, want %q", got, want)
	}
	if got, want := cfg.Feeds[1].PublishedURL(), "https://example.com/other"; got != want {
		t.Errorf("PublishedURL() = %q, want %q", got, want)
	}
}

func TestCredentialErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty", "\n")
	t.Setenv("TRIBUTARY_TEST_SET", "x")
	tests := []struct {
		name, feed string
		want       []string
	}{
		{"unreadable password file", `    auth: {username: alice, password_file: missing}`,
			[]string{`t.yaml:3: feeds[0].auth.password_file: read secret: open ` + filepath.Join(dir, "missing") + `: no such file or directory`}},
		{"empty password file", `    auth: {username: alice, password_file: empty}`,
			[]string{`t.yaml:3: feeds[0].auth.password_file: read secret: ` + filepath.Join(dir, "empty") + ` is empty`}},
		{"password file too large", `    auth: {username: alice, password_file: /dev/zero}`,
			[]string{`t.yaml:3: feeds[0].auth.password_file: read secret: /dev/zero is larger than 65536 bytes`}},
		{"no password file", `    auth: {username: alice}`,
			[]string{`t.yaml:3: feeds[0].auth: password_file is required (the password is never written in the config)`}},
		{"password in the config", `    auth: {username: alice, password: s3cretpw}`,
			[]string{`t.yaml:3: unknown key "password"`, `t.yaml:3: feeds[0].auth: password_file is required (the password is never written in the config)`}},
		{"colon in user name", `    auth: {username: "a:b", password_file: empty}`,
			[]string{`t.yaml:3: feeds[0].auth.username: must be a non-empty name without ':' or line breaks`, `t.yaml:3: feeds[0].auth.password_file: read secret: ` + filepath.Join(dir, "empty") + ` is empty`}},
		{"unset variable", "    headers:\n      X-Key: env:TRIBUTARY_TEST_UNSET",
			[]string{`t.yaml:4: feeds[0].headers.X-Key: environment variable TRIBUTARY_TEST_UNSET is not set`}},
		{"reserved header", "    headers:\n      host: evil.example\n      Transfer-Encoding: chunked\n      If-None-Match: x",
			[]string{`t.yaml:4: feeds[0].headers.host: Host is set by tributary or by the connection, and cannot be configured`,
				`t.yaml:5: feeds[0].headers.Transfer-Encoding: Transfer-Encoding is set by tributary or by the connection, and cannot be configured`,
				`t.yaml:6: feeds[0].headers.If-None-Match: If-None-Match is set by tributary or by the connection, and cannot be configured`}},
		{"bad header name", "    headers:\n      \"X Key\": v",
			[]string{`t.yaml:4: feeds[0].headers: "X Key" is not a valid header name`}},
		{"line break in a value, not quoted back", "    headers:\n      X-Key: \"s3cret\\r\\nEvil: 1\"",
			[]string{`t.yaml:4: feeds[0].headers.X-Key: the value is not a valid header value (line breaks or control characters)`}},
		{"Authorization twice", "    auth: {username: alice, password_file: empty}\n    headers:\n      Authorization: env:TRIBUTARY_TEST_SET",
			[]string{`t.yaml:3: feeds[0].auth.password_file: read secret: ` + filepath.Join(dir, "empty") + ` is empty`,
				`t.yaml:5: feeds[0].headers.Authorization: auth sets the Authorization header: keep one of them`}},
		{"public_url with a token", `    public_url: https://example.com/feed?api_key=k`,
			[]string{`t.yaml:3: feeds[0].public_url: must not carry credentials (userinfo or a secret query parameter): it is published`}},
		{"public_url not http", `    public_url: ftp://example.com/feed`,
			[]string{`t.yaml:3: feeds[0].public_url: invalid URL "ftp://example.com/feed": want an absolute http or https URL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "feeds:\n  - url: https://example.com/feed\n" + tt.feed + "\n"
			_, err := config.Parse(filepath.Join(dir, "t.yaml"), []byte(src))
			got := problems(t, err)
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], dir+string(filepath.Separator))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("an error quotes the secret: %v", err)
			}
		})
	}
}

func TestSecretsNotQuotedInURLErrors(t *testing.T) {
	_, err := parse(t, `feeds:
  - url: http://alice:s3cretpw@example.com/feed?token=tok123
  - url: http://bob:other@example.com/feed?token=tok456
  - url: ftp://alice:s3cretpw@example.com/feed?token=tok123
`)
	want := []string{
		`t.yaml:3: feeds[1]: publishes the same source URL "http://example.com/feed?token=REDACTED" as feeds[0] (line 2) once secrets are redacted: give one of them a public_url`,
		`t.yaml:4: feeds[2].url: invalid URL "ftp://example.com/feed?token=REDACTED": want an absolute http or https URL`,
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
