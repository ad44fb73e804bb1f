package pgtest

import (
	"context"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

func TestServerRunsQueries(t *testing.T) {
	ctx := context.Background()
	s, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	u1, u2 := NewDatabase(t), NewDatabase(t)
	if u1 == u2 {
		t.Fatalf("two databases share the URL %s", u1)
	}
	if err := s.Exec(ctx, "postgres", "CREATE TABLE probe (n int); INSERT INTO probe VALUES (41), (1)"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, "postgres", "SELECT sum(n) FROM probe")
	if err != nil {
		t.Fatal(err)
	}
	if got != "42" {
		t.Fatalf("sum = %q, want 42", got)
	}
	if err := s.Exec(ctx, "postgres", "SELECT * FROM no_such_table"); err == nil {
		t.Fatal("a failing statement gave no error")
	}
}
