package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/market"
)

// bitmexClient is a program written against BitMEX's /realtime: it
// follows one symbol's tradeBin1m and trade tables on a gateway.
type bitmexClient struct {
	m      market.Market
	symbol string
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	bins   []bitmexRow // in the order received
	trades []bitmexRow
	err    error // why it stopped early
}

// bitmexRow is the part of a tradeBin1m or trade row the test checks.
type bitmexRow struct {
	Timestamp time.Time   `json:"timestamp"`
	Open      json.Number `json:"open"`
	High      json.Number `json:"high"`
	Low       json.Number `json:"low"`
	Close     json.Number `json:"close"`
	Trades    int64       `json:"trades"`
	Price     json.Number `json:"price"`
}

// followBitmex connects a /realtime client of m's symbol to gw.
func followBitmex(t *testing.T, gw *proc, m market.Market) *bitmexClient {
	t.Helper()
	symbol := bitmexcompat.Alias(m)
	ctx, cancel := context.WithCancel(context.Background())
	url := fmt.Sprintf("ws://%s/realtime?subscribe=tradeBin1m:%s,trade:%s", gw.addr, symbol, symbol)
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		cancel()
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(1 << 20)
	c := &bitmexClient{m: m, symbol: symbol, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer conn.CloseNow() //nolint:errcheck // the test ends it
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
				return
			}
			c.add(data)
		}
	}()
	return c
}

// add keeps a message's inserts.
func (c *bitmexClient) add(data []byte) {
	var msg struct {
		Table  string      `json:"table"`
		Action string      `json:"action"`
		Data   []bitmexRow `json:"data"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if d.Decode(&msg) != nil || msg.Action != "insert" {
		return // welcome, acks, partials
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch msg.Table {
	case "tradeBin1m":
		c.bins = append(c.bins, msg.Data...)
	case "trade":
		c.trades = append(c.trades, msg.Data...)
	}
}

// stop ends the client and returns what it got, and why it had stopped
// before (nil when it was still following).
func (c *bitmexClient) stop() (bins, trades []bitmexRow, early error) {
	c.mu.Lock()
	early = c.err
	c.mu.Unlock()
	c.cancel()
	<-c.done
	return c.bins, c.trades, early
}

// waitBin waits until the client has the bin of the minute opening at
// open, has stopped, or within has passed: the gateway writes to it
// beside its other clients, so it may be a moment behind them.
func (c *bitmexClient) waitBin(open int64, within time.Duration) {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c.mu.Lock()
		has := c.err != nil || slices.ContainsFunc(c.bins, func(b bitmexRow) bool {
			return b.Timestamp.UnixMilli()-time.Minute.Milliseconds() >= open
		})
		c.mu.Unlock()
		if has {
			return
		}
	}
}

// check: the client got every stored minute of [begin, end) once, in order,
// with the stored high, low, close and trade count; and live trades in
// most minutes, each priced within its stored minute.
func (c *bitmexClient) check(t *testing.T, stored []market.Candle, begin, end int64) {
	t.Helper()
	c.waitBin(end-time.Minute.Milliseconds(), 30*time.Second)
	bins, trades, early := c.stop()
	if early != nil {
		t.Errorf("the /realtime client stopped early: %v", early)
	}
	byMin := map[int64]market.Candle{}
	for _, sc := range stored {
		if sc.Market == c.m && sc.OpenTime >= begin && sc.OpenTime < end {
			byMin[sc.OpenTime] = sc
		}
	}
	next := begin
	for _, b := range bins {
		open := b.Timestamp.UnixMilli() - time.Minute.Milliseconds()
		if open < begin || open >= end {
			continue
		}
		sc := byMin[open]
		if open != next || !same(b.High, sc.High) || !same(b.Low, sc.Low) || !same(b.Close, sc.Close) || b.Trades != sc.Trades {
			t.Errorf("/realtime %s bin %s (want %s next): %+v; stored %s", c.symbol, fmtMin(open), fmtMin(next), b, sc.Close)
		}
		next = open + time.Minute.Milliseconds()
	}
	if next != end {
		t.Errorf("/realtime %s: tradeBin1m inserted up to %s, want every minute to %s", c.symbol, fmtMin(next), fmtMin(end))
	}
	t.Logf("/realtime %s: %d tradeBin1m inserts, %d trades", c.symbol, len(bins), len(trades))
	minutes := map[int64]bool{}
	for _, tr := range trades {
		open := market.I1m.Truncate(tr.Timestamp.UnixMilli())
		sc, ok := byMin[open]
		if !ok {
			continue
		}
		minutes[open] = true
		if p, err := market.ParseDecimal(tr.Price.String()); err != nil || p.LessThan(sc.Low) || sc.High.LessThan(p) {
			t.Errorf("/realtime %s trade at %s priced %s outside the stored minute's %s..%s", c.symbol, tr.Timestamp, tr.Price, sc.Low, sc.High)
		}
	}
	if want := len(byMin) / 2; len(minutes) < want || want == 0 {
		t.Errorf("/realtime %s: live trades in %d of %d minutes", c.symbol, len(minutes), len(byMin))
	}
}

// same reports whether a JSON number is the decimal d.
func same(n json.Number, d market.Decimal) bool {
	v, err := market.ParseDecimal(n.String())
	return err == nil && v.Equal(d)
}
