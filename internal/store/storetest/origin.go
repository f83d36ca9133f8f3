package storetest

import (
	"context"
	"testing"

	"github.com/candlewire/candlewire/internal/store"
)

// testClaimOrigin: the first claim of an origin marks the store, and a
// later claim of another returns the first.
func testClaimOrigin(t *testing.T, s store.Store) {
	o, ok := s.(interface {
		ClaimOrigin(ctx context.Context, origin string) (string, error)
	})
	if !ok {
		t.Skip("this store keeps no origin")
	}
	ctx := context.Background()
	for _, c := range []struct{ claim, want string }{{"sim", "sim"}, {"sim", "sim"}, {"live", "sim"}} {
		if got, err := o.ClaimOrigin(ctx, c.claim); err != nil || got != c.want {
			t.Fatalf("ClaimOrigin(%q) = %q, %v; want %q", c.claim, got, err, c.want)
		}
	}
}
