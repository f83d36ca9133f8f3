package bincache

import (
	"context"
	"errors"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
)

var m = market.Market{Venue: "binance", Symbol: "BTCUSDT"}

// fakeStore is a store's rows and a count of the series reads the cache
// made.
type fakeStore struct {
	rows  map[market.Key]market.Candle
	loads int
}

func (f *fakeStore) load(_ context.Context, mk market.Market, iv market.Interval, from int64, _ int) ([]market.Candle, error) {
	f.loads++
	var out []market.Candle
	for k, c := range f.rows {
		if k.Market == mk && k.Interval == iv && k.OpenTime >= from {
			out = append(out, c)
		}
	}
	return out, nil
}

func bin(iv market.Interval, open int64, trades int64) market.Candle {
	return market.Candle{Market: m, Interval: iv, OpenTime: open, Trades: trades}
}

// TestKnowsWhatItWrote: after one read of a series, later transactions
// answer from what was written, including absent bins; rows of a
// transaction that rolled back are not kept; bins older than what it keeps
// are left to the store.
func TestKnowsWhatItWrote(t *testing.T) {
	ctx := context.Background()
	const minute = 60_000
	base := int64(1_700_000_100_000) / (15 * minute) * (15 * minute)
	st := &fakeStore{rows: map[market.Key]market.Candle{}}
	st.rows[bin(market.I1m, base, 1).Key()] = bin(market.I1m, base, 1)
	c := New()

	tx := c.Begin(st.load)
	got, known, err := tx.Get(ctx, bin(market.I1m, base, 0).Key())
	if err != nil || !known || got == nil || got.Trades != 1 || st.loads != 1 {
		t.Fatalf("first read: %+v %v %v, %d loads", got, known, err, st.loads)
	}
	tx.Wrote([]market.Candle{bin(market.I1m, base+minute, 2)})
	tx.Commit()

	tx = c.Begin(st.load)
	rows, known, err := tx.Range(ctx, m, market.I1m, base, base+5*minute)
	if err != nil || !known || len(rows) != 2 || rows[1].Trades != 2 || st.loads != 1 {
		t.Fatalf("range after a commit: %+v %v %v, %d loads", rows, known, err, st.loads)
	}
	if got, known, _ := tx.Get(ctx, bin(market.I1m, base+2*minute, 0).Key()); !known || got != nil {
		t.Fatalf("an absent bin: %+v %v", got, known)
	}
	tx.Wrote([]market.Candle{bin(market.I1m, base+2*minute, 9)}) // rolled back: no Commit

	tx = c.Begin(st.load)
	if got, known, _ := tx.Get(ctx, bin(market.I1m, base+2*minute, 0).Key()); !known || got != nil {
		t.Fatalf("a rolled-back bin: %+v %v", got, known)
	}
	if _, known, _ := tx.Get(ctx, bin(market.I1m, base-3*60*minute, 0).Key()); known {
		t.Fatal("an old bin was answered")
	}
	tx.Wrote([]market.Candle{bin(market.I1m, base+60*minute, 3)})
	tx.Commit() // the newest bin moves on: the ones before its windows are forgotten
	tx = c.Begin(st.load)
	if _, known, _ := tx.Get(ctx, bin(market.I1m, base, 0).Key()); known {
		t.Fatal("a bin past what the cache keeps was answered")
	}
}

func TestLoadErrorAndNilCache(t *testing.T) {
	ctx := context.Background()
	failed := errors.New("read failed")
	tx := New().Begin(func(context.Context, market.Market, market.Interval, int64, int) ([]market.Candle, error) {
		return nil, failed
	})
	if _, known, err := tx.Get(ctx, bin(market.I1m, 0, 0).Key()); known || !errors.Is(err, failed) {
		t.Fatalf("a failed load: %v %v", known, err)
	}
	var none *Cache
	tx = none.Begin(nil)
	if _, known, err := tx.Range(ctx, m, market.I1m, 0, 60_000); known || err != nil {
		t.Fatalf("a nil cache answered: %v %v", known, err)
	}
	tx.Wrote([]market.Candle{bin(market.I1m, 0, 1)})
	tx.Commit()
}

func TestWindowStart(t *testing.T) {
	const minute = 60_000
	for _, c := range []struct {
		iv   market.Interval
		at   int64
		want int64
	}{
		{market.I1m, 7 * minute, 5 * minute},  // 3m bin at 6, 5m bin at 5
		{market.I1m, 10 * minute, 9 * minute}, // 3m bin at 9
		{market.I3m, 7 * minute, 6 * minute},  // nothing is built from 3m
		{market.I5m, 20 * minute, 15 * minute},
	} {
		if got := windowStart(c.iv, c.at); got != c.want {
			t.Errorf("windowStart(%s, %d) = %d, want %d", c.iv, c.at/minute, got/minute, c.want/minute)
		}
	}
}

// TestLeavesWhatItCannotKnow: a bin of an unknown interval, and a series
// with more rows from the window asked on than the cache learns, are left
// to the store.
func TestLeavesWhatItCannotKnow(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{rows: map[market.Key]market.Candle{}}
	for i := range maxLoad + 1 {
		c := bin(market.I1m, int64(i)*60_000, 1)
		st.rows[c.Key()] = c
	}
	tx := New().Begin(st.load)
	if _, known, err := tx.Get(ctx, market.Key{Market: m, Interval: "7m", OpenTime: 0}); known || err != nil {
		t.Fatalf("a 7m bin: known %v, %v", known, err)
	}
	if _, known, err := tx.Get(ctx, bin(market.I1m, 0, 0).Key()); known || err != nil || st.loads != 1 {
		t.Fatalf("a series of %d rows: known %v, %v after %d loads", maxLoad+1, known, err, st.loads)
	}
}
