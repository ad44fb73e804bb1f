package feedout

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWriteBody(t *testing.T) {
	t.Parallel()
	modified := time.Date(2026, 3, 2, 9, 30, 15, 500_000_000, time.UTC)
	const etag = `"abc"`
	tests := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"plain get", "GET", nil, 200, "body"},
		{"head", "HEAD", nil, 200, ""},
		{"star", "GET", http.Header{"If-None-Match": {"*"}}, 304, ""},
		{"weak form of the tag", "GET", http.Header{"If-None-Match": {`W/"abc"`}}, 304, ""},
		{"second header line", "GET", http.Header{"If-None-Match": {`"x"`, `"abc"`}}, 304, ""},
		{"prefix is no match", "GET", http.Header{"If-None-Match": {`"ab"`}}, 200, "body"},
		{"if-none-match wins over a matching date", "GET", http.Header{"If-None-Match": {`"x"`}, "If-Modified-Since": {"Mon, 02 Mar 2026 09:30:15 GMT"}}, 200, "body"},
		{"same second", "GET", http.Header{"If-Modified-Since": {"Mon, 02 Mar 2026 09:30:15 GMT"}}, 304, ""},
		{"one second earlier", "GET", http.Header{"If-Modified-Since": {"Mon, 02 Mar 2026 09:30:14 GMT"}}, 200, "body"},
		{"bad date ignored", "GET", http.Header{"If-Modified-Since": {"yesterday"}}, 200, "body"},
		{"range ignored", "GET", http.Header{"Range": {"bytes=0-1"}}, 200, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/x", nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "text/plain")
			writeBody(rec, req, etag, modified, []byte("body"))
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			hdr := rec.Header()
			if hdr.Get("ETag") != etag || hdr.Get("Last-Modified") != "Mon, 02 Mar 2026 09:30:15 GMT" {
				t.Errorf("validators: ETag %q, Last-Modified %q", hdr.Get("ETag"), hdr.Get("Last-Modified"))
			}
			switch tt.wantStatus {
			case 200:
				if hdr.Get("Content-Length") != "4" || hdr.Get("Content-Type") != "text/plain" {
					t.Errorf("200 headers: %v", hdr)
				}
			case 304:
				if hdr.Get("Content-Type") != "" || hdr.Get("Content-Length") != "" {
					t.Errorf("304 headers: %v", hdr)
				}
			}
		})
	}
}
