package status

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Handler serves GET /status: the Report of sources, as indented JSON,
// never cached. It reads the store on every request (the source states,
// the per-source counters and the category records, no article scan).
// Safe for concurrent use.
func Handler(store Store, sources []Source, logger *slog.Logger, now func() time.Time) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rep, err := Collect(r.Context(), store, sources, now())
		if err != nil {
			logger.Error("status failed", slog.Any("error", err))
			http.Error(w, "status unavailable", http.StatusInternalServerError)
			return
		}
		body, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			logger.Error("status failed", slog.Any("error", err))
			http.Error(w, "status unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(body, '\n'))
	})
}
