package story

import "testing"

// BenchmarkTextSignature measures what a store computes of every new or
// edited article outside its write lock: its text signature.
func BenchmarkTextSignature(b *testing.B) {
	stories := loadLabelStories(b)
	arts := make([]article, len(stories))
	for i, s := range stories {
		arts[i] = labelArticle(s, nil)
	}
	i := 0
	for b.Loop() {
		storyOf(arts[i%len(arts)]).Signature()
		i++
	}
}
