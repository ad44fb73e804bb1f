package story

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsNoTributaryPackage keeps the story engine pure: it imports
// none of tributary's packages, so that every backend and the fetcher can
// use it.
func TestImportsNoTributaryPackage(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/tributary/tributary") {
			t.Errorf("story imports %s", imp)
		}
	}
}
