package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/candlewire/candlewire/internal/postgres/pgtest"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openFresh opens a store on a fresh database, closed when the test ends.
func openFresh(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.Fresh(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance is the suite every store passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

// TestDownAtStart: a server that does not answer fails Open after the
// bounded retry, with one line naming the server (password hidden) and
// why.
func TestDownAtStart(t *testing.T) {
	own := pgtest.StartOwn(t)
	own.Stop()
	began := time.Now()
	_, err := Open(context.Background(), strings.Replace(own.DSN, "postgres@", "postgres:secret@", 1), Options{StartFor: time.Second})
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "not reachable for 1s") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open of a stopped server: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("gave up after %s, want about 1 s", took)
	}
	own.Start()
	s, err := Open(context.Background(), own.DSN, Options{StartFor: time.Second})
	if err != nil {
		t.Fatalf("after the server started: %v", err)
	}
	s.Close()
}
