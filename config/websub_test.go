package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
)

func TestWebSubSettings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want config.WebSub
	}{
		{"absent", "title: x\n", config.WebSub{}},
		{"builtin", "base_url: https://agg.example/news/\nwebsub:\n  hub: builtin\n",
			config.WebSub{Hub: "https://agg.example/news/websub", Builtin: true}},
		{"external", "base_url: https://agg.example\nwebsub:\n  hub: https://hub.example/\n",
			config.WebSub{Hub: "https://hub.example/"}},
		{"subscribe", "base_url: https://agg.example\nwebsub:\n  subscribe: true\n",
			config.WebSub{Subscribe: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("t.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.WebSub); diff != "" {
				t.Errorf("WebSub (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebSubProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"hub without base_url", "websub:\n  hub: builtin\n", []string{
			"t.yaml:2: websub.hub: needs base_url: the public URL that subscribers and hubs reach"}},
		{"subscribe without base_url", "websub:\n  subscribe: true\n", []string{
			"t.yaml:2: websub.subscribe: needs base_url: the public URL where hubs reach the callbacks"}},
		{"hub not a URL", "base_url: https://a.example\nwebsub:\n  hub: ftp://hub.example\n", []string{
			`t.yaml:3: websub.hub: must be builtin or the http(s) URL of a hub: invalid URL "ftp://hub.example": want an absolute http or https URL`}},
		{"subscribe not a boolean", "base_url: https://a.example\nwebsub:\n  subscribe: yes please\n", []string{
			`t.yaml:3: websub.subscribe: must be true or false, found "yes please"`}},
		{"unknown key", "websub:\n  lease: 1h\n", []string{
			`t.yaml:2: unknown key "lease"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("t.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
