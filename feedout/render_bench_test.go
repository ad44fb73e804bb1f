package feedout

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tributary/tributary/config"
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

// BenchmarkRenderCoverageView renders page 1 (50 entries) of views over a
// real store of 100,000 stories in one category, one in ten carried by two
// to four sources, against page 1 of the category itself, bypassing the
// document cache: a coverage view walks the coverage index from its end
// (one seek per coverage level, plus the window's), so it costs about what
// the category page costs.
func BenchmarkRenderCoverageView(b *testing.B) {
	world := storage.Category{Slug: "world", Name: "World"}
	const size = 100_000
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(b, func() time.Time { return clock })
	arts := seqArticles(0, size, world)
	saveAll(b, store, arts)
	var copies []storage.Article
	for i := 0; i < size; i += 10 {
		for n := 1; n <= 1+i%3; n++ {
			copies = append(copies, copyFrom(arts[i], n))
		}
	}
	saveAll(b, store, copies)
	now := arts[size-1].Published.Add(time.Minute)
	h := NewHandler(store, Options{Title: "Bench", BaseURL: "http://127.0.0.1", PageSize: 50, Now: func() time.Time { return now }}).(*handler)
	defs := []struct {
		name string
		def  feedDef
	}{
		{"category", h.categoryDef(world)},
		{"coverage", viewDef(&config.View{Slug: "top", Name: "Top", Sort: config.SortCoverage, MinSources: 1, PageSize: 50})},
		{"coverage-48h-min2", viewDef(&config.View{Slug: "top2", Name: "Top", Categories: []string{"world"}, Sort: config.SortCoverage, MinSources: 2, Window: 48 * time.Hour, PageSize: 50})},
		{"newest-min2", viewDef(&config.View{Slug: "multi", Name: "Multi", Sort: config.SortNewest, MinSources: 2, PageSize: 50})},
	}
	for _, d := range defs {
		b.Run("view="+d.name, func(b *testing.B) {
			req := pageRequest{slug: d.def.slug, format: formats()[0], limit: 50}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				doc, err := h.render(ctx, d.def, version{count: size}, req, now)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(doc.plain)))
			}
		})
	}
}
