package feedout

import (
	"os"
	"testing"

	"github.com/tributary/tributary/pgtest"
)

// TestMain stops the PostgreSQL server a benchmark may have started.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}
