package binance

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

// rawKline is the part of a kline push that says which trades it covers.
// Every key is declared: encoding/json would match "l" (the low) to "L".
type rawKline struct {
	Data struct {
		K struct {
			T    int64  `json:"t"`
			CT   int64  `json:"T"`
			S    string `json:"s"`
			F    int64  `json:"f"`
			L    int64  `json:"L"`
			Low  string `json:"l"`
			N    int64  `json:"n"`
			Vol  string `json:"v"`
			TVol string `json:"V"`
			Q    string `json:"q"`
			TQ   string `json:"Q"`
		} `json:"k"`
	} `json:"data"`
}

// TestTradesAgreeWithKlinesInRecordings: wherever a real recording holds a
// kline whose trades (fill ids f..L) all arrived as aggTrades in the same
// recording, the candle built from those aggTrades equals the kline: open,
// high, low, close, volume, quote volume and trade count.
func TestTradesAgreeWithKlinesInRecordings(t *testing.T) {
	compared := 0
	for _, name := range []string{"BINANCE.ws.1.0", "BINANCE_FUTURES.ws.1.0"} {
		frames := realdata.Received(t, name)
		trades := map[string][]market.Trade{}
		for _, f := range frames {
			if e, err := Decode(f); err == nil && e.Kind == KindTrade {
				trades[e.Trade.Market.Symbol] = append(trades[e.Trade.Market.Symbol], e.Trade)
			}
		}
		for _, f := range frames {
			e, err := Decode(f)
			var rk rawKline
			if err != nil || e.Kind != KindKline || json.Unmarshal(f, &rk) != nil || rk.Data.K.F <= 0 {
				continue
			}
			k := rk.Data.K
			built, ok := fromTrades(trades[k.S], k.F, k.L)
			if !ok {
				continue // the recording lacks some of its trades
			}
			compared++
			v := e.Candle
			if got, want := brief(built), brief(v); got != want {
				t.Errorf("%s %s minute %d (fills %d..%d): trades give %s, the kline says %s", name, k.S, k.T, k.F, k.L, got, want)
			}
		}
	}
	if compared == 0 {
		t.Fatal("no kline of the recordings had all its trades recorded: nothing was compared")
	}
	t.Logf("%d klines compared with the candles their recorded trades build", compared)
}

// fromTrades builds the candle of fills first..last from aggTrades, if
// they cover that range exactly, without a hole.
func fromTrades(ts []market.Trade, first, last int64) (market.Candle, bool) {
	var c market.Candle
	next := first
	for _, t := range ts {
		if t.FirstSeq < first || t.LastSeq > last {
			continue
		}
		if t.FirstSeq != next {
			return c, false
		}
		if next == first {
			c = market.Candle{Open: t.Price, High: t.Price, Low: t.Price, Volume: market.Zero, Quote: market.Zero}
		}
		if t.Price.GreaterThan(c.High) {
			c.High = t.Price
		}
		if t.Price.LessThan(c.Low) {
			c.Low = t.Price
		}
		c.Close, c.Volume, c.Quote = t.Price, c.Volume.Add(t.Size), c.Quote.Add(t.Quote)
		c.Trades += t.LastSeq - t.FirstSeq + 1
		next = t.LastSeq + 1
	}
	return c, next == last+1
}

func brief(c market.Candle) string {
	return fmt.Sprintf("%s/%s/%s/%s/%s/%s/%d", c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote, c.Trades)
}
