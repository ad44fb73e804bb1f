package storage

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsOnlyLowerLayers keeps the persistence layer below its
// consumers: of tributary's packages it imports only the story engine and
// the key-value database it runs on (kv, and kv/boltkv for a file).
func TestImportsOnlyLowerLayers(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	below := map[string]bool{
		"github.com/tributary/tributary/story":     true,
		"github.com/tributary/tributary/kv":        true,
		"github.com/tributary/tributary/kv/boltkv": true,
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/tributary/tributary") && !below[imp] {
			t.Errorf("storage imports %s", imp)
		}
	}
}
