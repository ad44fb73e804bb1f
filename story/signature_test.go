package story

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSortedSet checks each sort of sortedSet (comparison, spread, radix)
// against slices.Sort, on spread values, repeats and values crafted into
// one bucket of sortSpread.
func TestSortedSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	spread := func(n int) []uint32 {
		out := make([]uint32, n)
		for i := range out {
			out[i] = rng.Uint32()
		}
		return out
	}
	oneBucket := func(n int) []uint32 {
		out := spread(n)
		for i := range out {
			out[i] = 0x7f000000 | out[i]>>8
		}
		return out
	}
	repeats := func(n int) []uint32 {
		out := spread(n)
		for i := range out {
			out[i] = out[i] % 97 << 24
		}
		return out
	}
	for _, tt := range []struct {
		name string
		hs   []uint32
	}{
		{"empty", nil},
		{"comparison", spread(spreadMin - 1)},
		{"spread-least", spread(spreadMin)},
		{"spread", spread(500)},
		{"spread-most", spread(spreadMax)},
		{"spread-one-bucket", oneBucket(spreadMax)},
		{"spread-repeats", repeats(1000)},
		{"radix", spread(spreadMax + 1)},
		{"radix-repeats", repeats(5000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Compact(slices.Sorted(slices.Values(tt.hs)))
			got := new(textHashes).sortedSet(slices.Clone(tt.hs))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sortedSet of %d values (-want +got):\n%s", len(tt.hs), diff)
			}
		})
	}
}

// TestRecordHasKey checks HasKey against Keys on the records of the
// labelled stories: each of a record's keys, and no other story's key it
// does not share.
func TestRecordHasKey(t *testing.T) {
	var recs []Record
	for _, text := range []string{
		"Leaders meet in Alaska to talk about the war and what comes after it for the region",
		"Central bank holds rates as inflation cools across the euro area for a third month",
	} {
		recs = append(recs, NewRecord(time.Unix(0, 0), "feed", Of(text, "<p>"+text+" and more words to sketch</p>", "").Signature()))
	}
	for i, r := range recs {
		for _, k := range r.Keys() {
			if !r.HasKey(k) {
				t.Errorf("record %d: HasKey(%x) = false for one of its keys", i, k)
			}
		}
		for _, k := range recs[1-i].Keys() {
			if want := slices.ContainsFunc(r.Keys(), func(o []byte) bool { return bytes.Equal(o, k) }); r.HasKey(k) != want {
				t.Errorf("record %d: HasKey(%x) = %t, want %t", i, k, !want, want)
			}
		}
	}
}
