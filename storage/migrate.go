package storage

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/tributary/tributary/kv"
)

// migration upgrades a database from one schema version to the next inside
// the caller's write transaction.
type migration func(tx kv.Tx) error

// migrations lists the upgrades in order: migrations[i] turns schema
// version i+1 into i+2, so len(migrations)+1 must equal schemaVersion. Each
// runs once, forward only. Version 1 is the first layout; version 2 keys
// the sketch index by period first (sketchByPeriod); version 3 adds the
// sketch log (addSketchLog); version 4 marks stale entries in the log
// (markStaleLogEntries).
func migrations() []migration {
	return []migration{sketchByPeriod, addSketchLog, markStaleLogEntries}
}

// markStaleLogEntries is the migration from schema version 3 to 4, from
// which every save or deletion that replaces or removes a signature record
// marks its ID in the sketch log (staleMark), and lookups and merges read
// the records of marked IDs only. The log of a version 3 file may hold
// entries of records replaced or removed since, unmarked: the step marks
// their IDs, in a run of its own. Version 4 also slices the sketch keys
// by another byte (keySlice), so a merge in progress starts over at the
// first slice (putting an entry the index has is a no-op). A damaged
// directory or run is left as it is, for Check to report: the file opens.
func markStaleLogEntries(tx kv.Tx) error {
	b := tx.Bucket([]byte(bucketSketchLog))
	if b == nil {
		return nil
	}
	runs, _, err := readSketchDir(tx)
	if err != nil {
		return nil
	}
	if m := b.Get(keySketchMerge); len(m) == 5 && m[4] != 0 {
		if err := b.Put(keySketchMerge, append(slices.Clone(m[:4]), 0)); err != nil {
			return fmt.Errorf("restart sketch log merge: %w", err)
		}
	}
	var entries [][]byte
	for _, r := range runs {
		if parts, err := readRun(b, r.key, r.entries); err == nil {
			entries = slices.AppendSeq(entries, runEntries(parts))
		}
	}
	var marks staleMarks
	for _, id := range unmarkedStale(tx, entries) {
		marks.add(id)
	}
	return marks.log(tx)
}

// addSketchLog is the migration from schema version 2 to 3, which adds the
// sketch log (bucketSketchLog): a file of version 2 has every entry in the
// sketch index and an empty log, so there is nothing to move, and the step
// only raises the version, so that an older tributary, which would not
// look in the log, refuses the file.
func addSketchLog(kv.Tx) error {
	return nil
}

// migrate brings the database in tx from its recorded version up to
// len(steps)+1 by running the missing steps in order, then records the new
// version, all in tx: a failure or a crash leaves the file at its old
// version. A version newer than len(steps)+1 is an error naming both.
func migrate(tx kv.Tx, steps []migration) (from int, err error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return 0, fmt.Errorf("not a tributary database: no %s bucket", bucketMeta)
	}
	raw := meta.Get([]byte(keySchema))
	from, err = strconv.Atoi(string(raw))
	if err != nil || from < 1 {
		return 0, fmt.Errorf("database schema version %q is not a valid version", raw)
	}
	target := len(steps) + 1
	if from > target {
		return from, fmt.Errorf("database schema version %d is newer than this tributary supports (%d): use a newer tributary", from, target)
	}
	for v := from; v < target; v++ {
		if err := steps[v-1](tx); err != nil {
			return from, fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	if from == target {
		return from, nil
	}
	if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(target))); err != nil {
		return from, fmt.Errorf("record schema version %d: %w", target, err)
	}
	return from, nil
}

// needsMigration reports whether the file's recorded version is below
// target, without changing anything.
func needsMigration(tx kv.Tx, target int) bool {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return false
	}
	v, err := strconv.Atoi(string(meta.Get([]byte(keySchema))))
	return err == nil && v >= 1 && v < target
}
