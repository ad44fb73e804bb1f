// Package storage keeps tributary's articles and per-source fetch state in
// an ordered key-value database (package kv): one bbolt file (Open, through
// kv/boltkv), or any other kv.DB (New), such as the PostgreSQL one that
// several instances share. It imports only the story package, whose pure
// functions give the identity of items (story.ItemKey, story.IdentityURL)
// and the signatures that find copies of a story (story.Record), and kv;
// storage keeps their buckets and applies them in its transactions. Its
// types (Article, SourceState, …) are plain Go values, the data types every
// backend and consumer shares.
//
// # Backends
//
// Everything the store does it does through kv's buckets, keys and
// cursors, in the layout below, so it behaves the same on every backend.
// What only a bbolt file has stays with bbolt: Size and WriteTo (a backup
// is a copy of the file), the page check of Check, Compact, VerifyFile and
// Salvage, which work on a file's pages; on another backend Size and
// WriteTo fail with ErrNotFile (its own tools back it up and reclaim its
// space) and Check verifies the store's invariants only.
//
// On a backend whose every read is a round trip to a server
// (kv.Prefetcher: PostgreSQL), SaveArticles tells it what a chunk of
// articles will read before planning them one by one (prefetch.go): the
// identity keys of all of them, then the sketch index seeks of those with
// no stored identity and what the candidates found there need. A save
// then costs a few round trips a chunk rather than a few an article, and
// plans exactly as without the prefetch, which only fills the backend's
// cache of the transaction's reads. The write transaction of a save also
// adopts what the save's read transaction read (kv.Carrier) where no
// commit since changed it. The package's tests run on bbolt and again on
// PostgreSQL (TRIBUTARY_TEST_BACKEND, main_test.go); docs/performance.md
// has the first ingest on both.
//
// # Concurrency and lifetime
//
// A Store is opened with Open (or New) and released with Close. On a file
// it holds an exclusive lock for its whole life, so a second Store on the
// same file, in this or another process, fails with ErrLocked. All methods
// are safe for concurrent use: the backend runs one write transaction at a
// time and any number of read transactions beside it. Every value returned
// is a copy; none refers to the database's memory.
//
// # Layout (schema version 4)
//
// The layout is a tree of buckets in the kv.DB. All keys are
// byte-sortable; values are JSON.
//
//	meta        "schema" → decimal schema version ("4")
//	articles    article ID (32 hex digits) → Article
//	index/      one nested bucket per category slug, and one for AllSlug:
//	  <slug>    BigEndian(uint64 Published Unix ns, clamped to ≥ 0) ‖ ID → empty
//	coverage/   one nested bucket per category slug, and one for AllSlug:
//	  <slug>    BigEndian(uint16 Coverage: distinct sources of the story) ‖ its index/<slug> key → empty
//	categories  slug → {"name", "count", "updated"}; count = entries in index/<slug>
//	sources     feed URL → SourceState
//	source_counts feed URL → BigEndian(uint64) articles stored from it
//	            (created by the first save that needs it)
//	urls        16-byte hash of story.IdentityURL(link) → story ID (first one wins)
//	aliases     ID of an item merged into a story, or of a story absorbed
//	            into another, → story ID (follow until a stored article)
//	tombstones  deleted story ID → BigEndian(uint64 deletion Unix ns), for a
//	            story that was stored followed by the FNV-64a of its source,
//	            GUID and text signature (delete.go)
//	sketches    BigEndian(uint32 period: Published day / 9) ‖ kind ‖ band ‖
//	            uint32 value ‖ BigEndian(uint32 Published day) ‖ ID → empty
//	sketchlog   BigEndian(uint64 sequence) ‖ 8 random bytes ‖ BigEndian(uint32
//	            part) → part of a run: the sketches entries a save added,
//	            and a stale mark (0xff × 14 ‖ ID) of each ID whose record
//	            it replaced or removed, sorted and concatenated, 64 a part;
//	            "dir" → each run's key and BigEndian(uint32 entries), in order;
//	            "merge" → the merge in progress: BigEndian(uint32 runs) ‖ next
//	            slice; "version" → 16 × BigEndian(uint64), a version per slice
//	            of the sketch keys (first byte of the band value / 16) of the
//	            sketch index; "merged" → BigEndian(uint64) merges ended
//	signatures  story or copy ID → signature record (story.Record): Published,
//	            source, sketch keys, title word and text shingle hashes
//	members     story ID → the IDs (32 bytes each) of its copies that have
//	            a signature record, dropped with the story
//	websub/     one nested bucket per kind of WebSub record:
//	  <kind>    key → record, opaque to the store (package websub); created
//	            by the first record stored
//
// The last seven (story identity, see dedupe.go and the story package) are
// created by the first write that needs them, so files written before they
// existed open unchanged. Article IDs never change: the identity indexes
// map new keys to existing stories instead. The sketch index is keyed by
// period first, so that new stories' entries land together at the end of
// it (signature.go); schema version 1 keyed it by sketch key first, in a
// bucket named "sketch", and Open moves its entries (migrate.go). A save
// puts its new sketch entries into the sketch log as one run, which
// lookups read from memory; once the runs hold 131,072 entries, a merge
// puts them into the index in key order, in sixteen transactions of one
// slice of the sketch keys each (sketchlog.go), so that the index's pages
// are rewritten once for many saves rather than by every save (version 3;
// version 2 had no log; version 4 adds the stale marks and slices the
// sketch keys by their band value). A save or deletion that replaces or removes a
// signature record writes a mark of its ID into the log (an entry whose
// bytes before the ID are all 0xff), so that lookups check records only
// for marked IDs; the merge drops marks as it drops stale entries.
//
// The newest articles of a category are a reverse cursor walk over its
// index bucket, not a scan; its most-carried stories are one over its
// coverage bucket (built at the first Open of a file written before it
// existed). SaveArticles writes an article, its index
// entries and its categories' counters in one transaction, so a crash
// leaves either all of them or none; Check verifies these invariants. A
// category whose count drops to zero loses its record and index bucket.
//
// Open and New write the layout into a new database and refuse one whose
// schema version is newer than this package knows. On a bbolt file writes
// never use NoSync; the freelist is not synced (bbolt rebuilds it at Open),
// which makes commits cheaper.
package storage
