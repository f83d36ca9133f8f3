package bus

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/candlewire/candlewire/internal/bus/natstest"
	"github.com/candlewire/candlewire/internal/market"
)

func TestTradeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		tr   market.Trade
	}{
		{"binance aggTrade", market.Trade{Market: market.Market{Venue: "binance", Symbol: "BTCUSDT"}, Time: 1700000000123,
			Price: market.MustDecimal("37123.45"), Size: market.MustDecimal("0.00012"), Quote: market.MustDecimal("4.4548140"),
			Buy: true, FirstSeq: 10, LastSeq: 12}},
		{"bitmex sell, no ids", market.Trade{Market: market.Market{Venue: "bitmex", Symbol: "XBTUSD"}, Time: 1,
			Price: market.MustDecimal("0.0000000000000000001"), Size: market.MustDecimal("100"), Quote: market.Zero}},
		{"a symbol with dots", market.Trade{Market: market.Market{Venue: "kraken", Symbol: "XBT/USD.d"}, Time: 5,
			Price: market.MustDecimal("1"), Size: market.MustDecimal("2"), Quote: market.MustDecimal("2")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := encodeTrade(tc.tr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeTrade(data)
			if err != nil || !sameTrade(got, tc.tr) {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, tc.tr)
			}
		})
	}
}

func TestDecodeTradeRefuses(t *testing.T) {
	for _, data := range []string{
		``, `{`, `[]`, `{"venue":"v","symbol":"s","t":1,"p":"x","s":"1","q":"1"}`,
		`{"venue":"","symbol":"s","t":1,"p":"1","s":"1","q":"1"}`, `{"venue":"v","symbol":"s","t":0,"p":"1","s":"1","q":"1"}`,
		`{"venue":"v","symbol":"s","t":1,"p":"1","s":"1","q":"1","pad":"` + string(make([]byte, MaxMessage)) + `"}`,
	} {
		if tr, err := decodeTrade([]byte(data)); err == nil {
			t.Errorf("%.60q: decoded %+v", data, tr)
		}
	}
}

func FuzzDecodeTrade(f *testing.F) {
	data, err := encodeTrade(market.Trade{Market: market.Market{Venue: "okx", Symbol: "BTC-USDT"}, Time: 1700000000000,
		Price: market.MustDecimal("37000.1"), Size: market.MustDecimal("0.5"), Quote: market.MustDecimal("18500.05"), Buy: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"venue":"v","symbol":"s","t":1,"p":"1e-5","s":"1","q":"1","f":3,"l":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := decodeTrade(data)
		if err != nil {
			return
		}
		again, err := encodeTrade(tr)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := decodeTrade(again); err != nil || !sameTrade(back, tr) {
			t.Fatalf("%+v re-encoded as %s decodes to %+v, %v", tr, again, back, err)
		}
	})
}

func sameTrade(a, b market.Trade) bool {
	return a.Market == b.Market && a.Time == b.Time && a.Price.Equal(b.Price) && a.Size.Equal(b.Size) &&
		a.Quote.Equal(b.Quote) && a.Buy == b.Buy && a.FirstSeq == b.FirstSeq && a.LastSeq == b.LastSeq
}

// tradeLog records the trades a feed hands on.
type tradeLog struct {
	mu     sync.Mutex
	trades []market.Trade
}

func (l *tradeLog) PublishTrade(t market.Trade) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trades = append(l.trades, t)
}

func (l *tradeLog) of(m market.Market) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var times []int64
	for _, t := range l.trades {
		if t.Market == m && t.Time >= 1000 { // not the probes
			times = append(times, t.Time)
		}
	}
	return times
}

// TestTradesOnTheBusOnce: two collectors both collect two markets, each
// owning one; a serving node's feed gets every trade once, in order, and
// skips, counted, what is not a trade of its subject.
func TestTradesOnTheBusOnce(t *testing.T) {
	c := natstest.Start(t, 1)
	conn := func() *nats.Conn {
		nc, err := nats.Connect(c.URLs())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b := market.Market{Venue: "binance", Symbol: "AUSDT"}, market.Market{Venue: "okx", Symbol: "B.USDT"}
	got := &tradeLog{}
	feed := NewTradeFeed(conn(), got, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- feed.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var runs sync.WaitGroup
	pctx, stopPublishers := context.WithCancel(context.Background())
	defer func() { stopPublishers(); runs.Wait() }()
	publisher := func(owns func(market.Market) bool) *TradePublisher {
		p := NewTradePublisher(conn(), owns, quiet)
		runs.Add(1)
		go func() { defer runs.Done(); p.Run(pctx) }() //nolint:errcheck // returns nil
		return p
	}
	probe := publisher(func(market.Market) bool { return true })
	for deadline := time.Now().Add(20 * time.Second); feed.Stats().Received.Load() == 0; { // the feed has subscribed
		if time.Now().After(deadline) {
			t.Fatal("the feed received no trade in 20 s")
		}
		probe.PublishTrade(market.Trade{Market: a, Time: 1, Price: market.MustDecimal("1"), Size: market.MustDecimal("1")})
		time.Sleep(10 * time.Millisecond)
	}
	owners := []*TradePublisher{
		publisher(func(m market.Market) bool { return m == a }),
		publisher(func(m market.Market) bool { return m == b }),
	}
	const n = 500
	var want []int64
	for i := range n {
		want = append(want, int64(1000+i))
		for _, p := range owners { // both collect both markets
			for _, m := range []market.Market{a, b} {
				p.PublishTrade(market.Trade{Market: m, Time: int64(1000 + i), Price: market.MustDecimal("2.5"), Size: market.MustDecimal("1")})
			}
		}
	}
	bad := conn()
	for _, msg := range []struct{ subject, data string }{
		{"trades.binance.AUSDT", `{"venue":"okx","symbol":"B.USDT","t":9,"p":"1","s":"1","q":"1"}`}, // not its subject's
		{"trades.binance.AUSDT", `not json`},
	} {
		if err := bad.Publish(msg.subject, []byte(msg.data)); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(got.of(a)) >= n && len(got.of(b)) >= n && feed.Stats().Bad.Load() == 2 {
			break
		}
	}
	if ga, gb := got.of(a), got.of(b); !slices.Equal(ga, want) || !slices.Equal(gb, want) {
		t.Errorf("the feed got %d and %d trades, want %d of each once and in order", len(ga), len(gb), n)
	}
	if bad := feed.Stats().Bad.Load(); bad != 2 {
		t.Errorf("%d bad messages counted, want 2", bad)
	}
	for i, p := range owners {
		if pub := p.Stats().Published.Load(); pub != n {
			t.Errorf("collector %d published %d trades, want the %d of the market it owns", i, pub, n)
		}
	}
}
