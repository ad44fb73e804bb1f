-- The ordered key-value database of package kv (see doc.go).
--
-- Every bucket's keys are rows of kv: bucket is the bucket's path (its
-- names from the top, each as a uvarint length then the name's bytes; the
-- empty path is the root, whose keys are the top-level buckets), value is
-- the key's value, or NULL when the key names a nested bucket.
CREATE TABLE kv (
	bucket bytea NOT NULL,
	key    bytea NOT NULL,
	value  bytea,
	PRIMARY KEY (bucket, key)
);

-- The generation of the database: Tx.ID, one more with every committed
-- write transaction. One row.
CREATE TABLE kv_generation (
	one        boolean PRIMARY KEY DEFAULT true CHECK (one),
	generation bigint  NOT NULL
);
INSERT INTO kv_generation (generation) VALUES (1);
