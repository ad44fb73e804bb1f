package main

import (
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/storage"
)

func TestMetricsCountFullTextPages(t *testing.T) {
	m := newMetrics(func() (*storage.Store, *config.Config) { return nil, nil }, slog.New(slog.DiscardHandler))
	m.observe(fetcher.Result{Outcome: "ok", New: 5, FullText: 3, FullTextFailed: 2})
	m.observe(fetcher.Result{Outcome: "ok", New: 1, FullText: 1})
	reg := prometheus.NewRegistry() // without the store's collector
	reg.MustRegister(m.fullTexts)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != "tributary_fulltext_pages_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			got[c.GetLabel()[0].GetValue()] = c.GetCounter().GetValue()
		}
	}
	for result, want := range map[string]float64{"ok": 4, "failed": 2} {
		if got[result] != want {
			t.Errorf(`tributary_fulltext_pages_total{result=%q} = %v, want %v`, result, got[result], want)
		}
	}
}
