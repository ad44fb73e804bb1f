package pgkv

import (
	"context"
	"fmt"
	"strings"
)

// tables lists the tables of tributary's schema, those its migrations
// create beside schema_migrations: the key-value store and the source
// leases.
var tables = []string{"kv", "kv_generation", "source_leases", "host_turns", "host_slots", "schema_migrations"}

// Vacuum runs VACUUM (ANALYZE) on tributary's tables: it makes the space of deleted
// rows reusable and refreshes the planner's statistics, the PostgreSQL
// side of compacting a bbolt file. It takes no lock that stops readers or
// writers, so it runs while instances serve. The database must be
// migrated.
func (d *DB) Vacuum(ctx context.Context) error {
	// VACUUM cannot run in a transaction: Exec of a single statement
	// without arguments runs it as it is.
	if _, err := d.pool.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}
