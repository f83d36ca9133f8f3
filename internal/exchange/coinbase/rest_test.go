package coinbase

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/exchange/coinbase/coinbasesim"
	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/upstream"
)

// TestRESTCandles fetches three simulated hours of a product: from trades,
// every minute (empty ones included) equals the trade log's candle; with
// trades allowed only two pages back, the older minutes come from REST
// candles in windows of 300 and carry everything but quote volume and
// count.
func TestRESTCandles(t *testing.T) {
	t.Parallel()
	s, ep, base := exchangetest.Sim(t, sim.Config{Seed: 9, Speed: 1, History: 4 * time.Hour}, Driver)
	m := Market("BTC-USD")
	s.Instrument(Venue, m.Symbol, coinbasesim.Spec(m.Symbol))
	to := market.I1m.Truncate(s.Clock.Now())
	from := to - 3*60*60_000
	want, err := oracle.Expected(base, m, Driver.Sim.Convention, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		pages int
		exact bool
	}{{"trades", 100, true}, {"candles beyond two pages of trades", 2, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := &REST{Base: ep.RESTURL, HTTP: &upstream.HTTP{Venue: Venue}, TradePages: tc.pages}
			got, err := r.Candles(context.Background(), m, from, to, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d minutes, want %d", len(got), len(want))
			}
			rest := 0
			for i, c := range got {
				w := want[c.OpenTime]
				if c.OpenTime != from+int64(i)*60_000 || c.State != market.Reconciled {
					t.Fatalf("row %d: minute %d %s", i, c.OpenTime, c.State)
				}
				if c.Quote.IsZero() && !c.Volume.IsZero() { // from REST candles: no q, no n
					rest++
					f := strings.Split(w, "/")
					n, _ := strconv.ParseInt(f[6], 10, 64)
					c.Quote, c.Trades = market.MustDecimal(f[5]), n
				}
				if oracle.Brief(c) != w {
					t.Errorf("minute %d: %s, want %s", c.OpenTime, oracle.Brief(c), w)
				}
			}
			if exact := rest == 0; exact != tc.exact {
				t.Errorf("%d minutes from REST candles", rest)
			}
		})
	}
}

func TestDecodeRESTRejects(t *testing.T) {
	t.Parallel()
	m := Market("BTC-USD")
	for _, body := range []string{`{}`, `[[1,2,3]]`, `[[60,"x",2,1,1,1]]`, `[[61,1,2,1,1,1]]`, `[[60,3,2,1,1,1]]`, `[[60,1,2,1,1,1],[60,1,2,1,1,1]]`} {
		if _, err := DecodeCandles(m, []byte(body)); !errors.Is(err, ErrDecode) {
			t.Errorf("candles %s: %v", body, err)
		}
	}
	for _, body := range []string{`{}`, `[{"time":"x","trade_id":1,"price":"1","size":"1","side":"buy"}]`,
		`[{"time":"2021-04-17T16:43:37Z","trade_id":1,"price":"1","size":"1","side":"buy"},{"time":"2021-04-17T16:43:37Z","trade_id":2,"price":"1","size":"1","side":"buy"}]`} {
		if _, err := DecodeTrades(m, []byte(body)); !errors.Is(err, ErrDecode) {
			t.Errorf("trades %s: %v", body, err)
		}
	}
}

func FuzzDecodeREST(f *testing.F) {
	f.Add([]byte(`[[1618677780,14.7,14.9,14.8,14.75,12.5]]`))
	f.Add([]byte(`[{"time":"2021-04-17T16:43:37.121358Z","trade_id":74,"price":"10.00000000","size":"0.01000000","side":"buy"}]`))
	m := Market("BTC-USD")
	f.Fuzz(func(t *testing.T, data []byte) {
		if cs, err := DecodeCandles(m, data); err == nil {
			for _, c := range cs {
				if err := c.Validate(); err != nil {
					t.Fatalf("decoded an invalid candle %+v: %v", c, err)
				}
			}
		}
		if ts, err := DecodeTrades(m, data); err == nil {
			for _, tr := range ts {
				if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 || tr.LastSeq <= 0 {
					t.Fatalf("decoded an invalid trade %+v", tr)
				}
			}
		}
	})
}
