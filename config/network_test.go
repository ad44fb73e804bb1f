package config_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

func TestNetworkErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "proxy", "socks5://bob:s3cretpw@127.0.0.1:1080\n")
	t.Setenv("TRIBUTARY_TEST_PROXY", "ftp://bob:s3cretpw@proxy.example")
	tests := []struct {
		name, feed string
		want       []string
	}{
		{"proxy scheme", `    proxy: ftp://bob:s3cretpw@proxy.example:21`,
			[]string{`t.yaml:3: feeds[0].proxy: invalid proxy URL: the scheme must be http, https, socks5 or socks5h`}},
		{"proxy scheme from the environment", `    proxy: env:TRIBUTARY_TEST_PROXY`,
			[]string{`t.yaml:3: feeds[0].proxy: invalid proxy URL: the scheme must be http, https, socks5 or socks5h`}},
		{"proxy variable unset", `    proxy: env:TRIBUTARY_TEST_UNSET`,
			[]string{`t.yaml:3: feeds[0].proxy: environment variable TRIBUTARY_TEST_UNSET is not set`}},
		{"proxy without host", `    proxy: "http://bob:s3cretpw@:8080"`,
			[]string{`t.yaml:3: feeds[0].proxy: invalid proxy URL: it has no host`}},
		{"proxy with a path", `    proxy: http://bob:s3cretpw@proxy.example/s3cretpw`,
			[]string{`t.yaml:3: feeds[0].proxy: invalid proxy URL: no path, query or fragment allowed`}},
		{"proxy from a file", `    proxy: file:proxy`, nil},
		{"bad selector", `    fulltext: "article >"`,
			[]string{`t.yaml:3: feeds[0].fulltext: invalid CSS selector "article >": expected selector, found EOF instead`}},
		{"empty selector", `    fulltext: " "`,
			[]string{`t.yaml:3: feeds[0].fulltext: must be true, false or a CSS selector`}},
		{"timeout zero", `    timeout: 0s`,
			[]string{`t.yaml:3: feeds[0].timeout: must be more than 0s and at most 10m, found 0s`}},
		{"timeout too long", `    timeout: 11m`,
			[]string{`t.yaml:3: feeds[0].timeout: must be more than 0s and at most 10m, found 11m0s`}},
		{"user agent with a line break", `    user_agent: "a\nb"`,
			[]string{`t.yaml:3: feeds[0].user_agent: must be a single line without control characters`}},
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

func TestFetchProxyAndConcurrency(t *testing.T) {
	tests := []struct {
		name, fetch string
		want        []string
	}{
		{"proxy", "  proxy: https://proxy.example:8443", nil},
		{"fulltext_concurrency too high", "  fulltext_concurrency: 65",
			[]string{"t.yaml:2: fetch.fulltext_concurrency: must be from 1 to 64, found 65"}},
		{"fulltext_concurrency zero", "  fulltext_concurrency: 0",
			[]string{"t.yaml:2: fetch.fulltext_concurrency: must be from 1 to 64, found 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "fetch:\n" + tt.fetch + "\nfeeds:\n  - url: https://example.com/feed\n"
			_, err := config.Parse("t.yaml", []byte(src))
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProxyNeverShowsItsPassword(t *testing.T) {
	p, err := config.ParseProxy("http://bob:s3cretpw@proxy.example:3128")
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("proxy", slog.Any("proxy", p))
	for _, shown := range []string{p.String(), fmt.Sprint(p), fmt.Sprintf("%v %+v", p, config.Feed{Proxy: p}), logged.String()} {
		if strings.Contains(shown, "s3cretpw") {
			t.Errorf("the password shows: %s", shown)
		}
	}
	if got := p.URL().User.String(); got != "bob:s3cretpw" {
		t.Errorf("URL().User = %q, want the credentials for the proxy", got)
	}
}

func TestEffectiveNetwork(t *testing.T) {
	global, _ := config.ParseProxy("socks5://127.0.0.1:1080")
	own, _ := config.ParseProxy("http://proxy.example:3128")
	plain := config.Feed{URL: "https://example.com/feed"}
	tuned := config.Feed{URL: "https://example.com/feed", Proxy: own, Timeout: 5 * time.Second}
	if got := plain.EffectiveProxy(global); !got.Equal(global) {
		t.Errorf("EffectiveProxy without its own = %v, want %v", got, global)
	}
	if got := tuned.EffectiveProxy(global); !got.Equal(own) {
		t.Errorf("EffectiveProxy with its own = %v, want %v", got, own)
	}
	if got := plain.EffectiveTimeout(time.Minute); got != time.Minute {
		t.Errorf("EffectiveTimeout without its own = %v", got)
	}
	if got := tuned.EffectiveTimeout(time.Minute); got != 5*time.Second {
		t.Errorf("EffectiveTimeout with its own = %v", got)
	}
}
