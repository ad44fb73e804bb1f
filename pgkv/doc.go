// Package pgkv is the PostgreSQL backend of package kv: a kv.DB that
// several tributary instances share, each with its own pool of
// connections (pgx).
//
// # Schema
//
// Every key of every bucket is one row of one table:
//
//	kv(bucket bytea, key bytea, value bytea, PRIMARY KEY (bucket, key))
//
// bucket is the bucket's path: the names from the top, each written as its
// length (a uvarint) and its bytes, so that any bytes, 0x00 and 0xff
// included, make a name, and the rows of a bucket and of all the buckets
// it holds are exactly those whose path starts with its own. The empty
// path is the root, whose keys are the top-level buckets. value is NULL
// for a key that names a nested bucket, which is how a cursor shows it
// (a nil value) and how Get tells it from a value. bytea compares byte by
// byte, so the primary key's order is kv's, whatever the collation. The
// one-row table kv_generation holds the generation, Tx.ID. A key is at
// most 2,600 bytes with its bucket's path (kv.ErrKeyTooLarge), within the
// row size a B-tree index takes; tributary's keys are hashes, dates and
// feed URLs.
//
// The schema is made by the migrations of migrations/ (NNNN_name.sql,
// embedded in the binary), applied in order by Migrate and Open and
// recorded in schema_migrations(version, name, applied_at). The runner is
// ours, under a hundred lines, rather than a migration library's: what it
// must do is hold a session advisory lock while it applies the files, so
// that instances starting together apply each migration once, and read
// them from an embed.FS; with those two parts ours anyway, a library would
// add a dependency, and its own table and file conventions, for a loop
// over sorted files. Each migration runs in a transaction with its row in
// schema_migrations: it is applied whole or not at all. Tables beside the
// key-value ones (the source leases of the scheduler) come as further
// migrations, 0002 and on, in the same directory.
//
// # Transactions
//
// View is a REPEATABLE READ READ ONLY transaction: one snapshot, as a
// bbolt read transaction. Update first takes a transaction advisory lock
// (pg_advisory_xact_lock with a fixed key), so write transactions run one
// at a time across every process on the database, as bbolt's single
// writer does in one process: storage reads, decides and writes in one
// Update (which story an article joins, which key comes next), and two
// instances deciding at once from the same state would each make a
// decision one bbolt writer never would. Serialised, the decisions are
// exactly those of one writer, and the lock, held until COMMIT, costs no
// retries, where SERIALIZABLE would abort one of two racing writers. The
// advisory lock keys are 0x7472_6962_6b76 (writes) and 0x7472_6962_6d69_67
// (migrations); nothing else on the database may take them.
//
// Update's writes stay in an in-memory overlay (per bucket, a B-tree in
// key order for cursors and a map by key for lookups), which Get and
// cursors merge with the database, so the transaction reads
// its own writes; when fn returns nil, the overlay goes to the database in
// one round trip (a pgx.Batch of DELETE and INSERT … ON CONFLICT over
// unnest arrays, thousands of rows a statement), with the new generation,
// and COMMIT. Cursors read the database a page at a time, in the
// direction they move: 256 rows, then twice as many each time, up to 2,048. Reads of keys are cached for the transaction.
//
// Each transaction holds a connection of the pool for its length: the
// pool's size, pgx's default (4, or the number of CPUs if more), is the
// number of transactions that run at once, and pool_max_conns in the URL
// sets it. The Changes listener has a connection of its own.
//
// Methods without an error result (Get, cursor moves) panic with a
// *kv.Error when a query fails, and View and Update return it.
//
// # Notifications
//
// Each write commit sends NOTIFY tributary_kv with the committed
// generation as its payload, delivered by PostgreSQL at COMMIT to every
// session that listens. Changes listens on a connection of its own and
// hands the generations on, so that caches and the WebSub hub of every
// instance learn of writes made by the others within a round trip.
package pgkv
