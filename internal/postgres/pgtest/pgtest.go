// Package pgtest gives tests a fresh PostgreSQL database on the server
// scripts/test starts (its DSN in CANDLEWIRE_TEST_POSTGRES). Without it a
// test skips, saying how to run it, unless CANDLEWIRE_REQUIRE_POSTGRES is
// set (CI), when it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that holds the test server's DSN.
const Env = "CANDLEWIRE_TEST_POSTGRES"

// Server returns the test server's DSN, or skips (fails under
// CANDLEWIRE_REQUIRE_POSTGRES) when there is none.
func Server(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		msg := Env + " is not set: start a server with `scripts/postgres start DIR` and export its DSN (scripts/test does both)"
		if os.Getenv("CANDLEWIRE_REQUIRE_POSTGRES") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// Fresh creates an empty database on the test server, dropped when the
// test ends, and returns its DSN.
func Fresh(t testing.TB) string {
	t.Helper()
	admin := Server(t)
	b := make([]byte, 6)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	name := "cw_test_" + hex.EncodeToString(b)
	run(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() { run(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func run(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
