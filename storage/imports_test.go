package storage

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsOnlyStory keeps the persistence layer below its consumers:
// of tributary's packages it imports only the story engine.
func TestImportsOnlyStory(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/tributary/tributary") && imp != "github.com/tributary/tributary/story" {
			t.Errorf("storage imports %s", imp)
		}
	}
}
