package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyFile covers the damage VerifyFile finds without crashing (the
// damage that crashes bbolt is tested through the child process, in
// cmd/tributary) and the files it cannot check.
func TestVerifyFile(t *testing.T) {
	raw, _, _ := salvageFile(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	flipped := append([]byte(nil), raw...)
	flipped[pageHeaderLen+20] ^= 0xff
	flipped[pageSizeOf(raw)+pageHeaderLen+20] ^= 0xff
	tests := []struct {
		name string
		path string
		is   error
		msg  string
	}{
		{"intact", write("intact.db", raw), nil, ""},
		{"truncated", write("truncated.db", raw[:len(raw)/2]), ErrDamaged, "file is truncated"},
		{"meta pages flipped", write("meta.db", flipped), ErrDamaged, "checksum error"},
		{"missing", filepath.Join(dir, "missing.db"), fs.ErrNotExist, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyFile(tt.path)
			if !errors.Is(err, tt.is) || tt.is == nil && err != nil || !strings.Contains(errString(err), tt.msg) {
				t.Errorf("VerifyFile = %v, want %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
	s, err := Open(filepath.Join(dir, "intact.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := VerifyFile(filepath.Join(dir, "intact.db")); !errors.Is(err, ErrLocked) {
		t.Errorf("VerifyFile of a file in use = %v, want ErrLocked", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
