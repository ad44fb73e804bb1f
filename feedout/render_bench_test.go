package feedout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary/tributary/storage"
)

// BenchmarkRenderFirstPage renders page 1 (50 entries) of a category
// holding 1k and 100k articles in a real bbolt store, both built once per
// run, bypassing the document cache: the store walks the page from the end
// of the category's time index, so the cost must not grow with its size.
// Each iteration reads the page, writes the document and gzips it.
func BenchmarkRenderFirstPage(b *testing.B) {
	world := storage.Category{Slug: "world", Name: "World"}
	for _, size := range []int{1_000, 100_000} {
		clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		store := newBoltStore(b, func() time.Time { return clock })
		saveAll(b, store, seqArticles(0, size, world))
		h := NewHandler(store, Options{Title: "Bench", BaseURL: "http://127.0.0.1", PageSize: 50}).(*handler)
		for _, f := range formats() {
			b.Run(fmt.Sprintf("articles=%d/format=%s", size, f.ext[1:]), func(b *testing.B) {
				req := pageRequest{slug: world.Slug, format: f, limit: 50}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					doc, err := h.render(ctx, h.categoryDef(world), version{count: size}, req, clock)
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(doc.plain)))
				}
			})
		}
	}
}
