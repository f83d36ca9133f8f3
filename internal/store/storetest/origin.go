package storetest

import (
	"context"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// testClaimOrigin: a claim marks an empty store (a later claim of another
// origin marks it again: it holds nothing yet), and once it holds candles,
// a claim of another origin returns the one it has.
func testClaimOrigin(t *testing.T, s store.Store) {
	o, ok := s.(interface {
		ClaimOrigin(ctx context.Context, origin string) (string, error)
	})
	if !ok {
		t.Skip("this store keeps no origin")
	}
	ctx := context.Background()
	for _, c := range []struct {
		claim, want string
		then        func()
	}{
		{"sim", "sim", nil},
		{"live", "live", func() { upsert(t, s, candle(btc, 0, "1", market.Closed)) }},
		{"live", "live", nil},
		{"sim", "live", nil},
	} {
		if got, err := o.ClaimOrigin(ctx, c.claim); err != nil || got != c.want {
			t.Fatalf("ClaimOrigin(%q) = %q, %v; want %q", c.claim, got, err, c.want)
		}
		if c.then != nil {
			c.then()
		}
	}
}
