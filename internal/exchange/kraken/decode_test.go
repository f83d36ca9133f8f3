package kraken

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []exchangetest.DecodeCase[Event, Kind]{
		{Name: "ohlc update (captured 2026, quoted)", Kind: KindOHLC,
			In: `{"channel":"ohlc","type":"update","timestamp":"2026-10-06T18:06:02.264627814Z","data":[{"symbol":"BTC/USD","open":85754.8,"high":85754.8,"low":85754.7,"close":85754.8,"trades":5,"volume":0.00126522,"vwap":85754.7,"interval_begin":"2026-10-06T18:06:00.000000000Z","interval":1,"timestamp":"2026-10-06T18:07:00.000000Z"}]}`,
			Check: func(t *testing.T, e Event) {
				c := e.Candles[0]
				if e.Snapshot || c.Market.String() != "kraken:BTC-USD" || c.OpenTime != 1791309960000 || c.State != market.Provisional ||
					c.Trades != 5 || c.Volume.String() != "0.00126522" || c.Quote.String() != "108.498561534" {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "trade (captured 2024, quoted)", Kind: KindTrades,
			In: `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":68580.0,"qty":0.14225864,"ord_type":"limit","trade_id":72166031,"timestamp":"2024-07-27T21:16:00.512060Z"}]}`,
			Check: func(t *testing.T, e Event) {
				tr := e.Trades[0]
				if tr.Market.String() != "kraken:BTC-USD" || !tr.Buy || tr.FirstSeq != 72166031 || tr.Time != 1722114960512 || tr.Price.String() != "68580" {
					t.Fatalf("%+v", tr)
				}
			}},
		{Name: "subscribe ack (captured, quoted)", Kind: KindReply,
			In: `{"method":"subscribe","result":{"channel":"ohlc","interval":1,"snapshot":true,"symbol":"BTC/USD","warnings":["timestamp is deprecated, use interval_begin"]},"success":true,"time_in":"2026-10-06T18:06:01.981684Z","time_out":"2026-10-06T18:06:01.981723Z"}`,
			Check: func(t *testing.T, e Event) {
				if !e.OK || e.Symbol != "BTC/USD" {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "subscribe refused (captured, quoted)", Kind: KindReply,
			In: `{"error":"Currency pair not supported XBT/USD","method":"subscribe","success":false,"symbol":"XBT/USD","time_in":"x","time_out":"y"}`,
			Check: func(t *testing.T, e Event) {
				if e.OK || !strings.Contains(e.Msg, "not supported") {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "status", Kind: KindOther, In: `{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.7"}]}`},
		{Name: "heartbeat", Kind: KindHeartbeat, In: `{"channel":"heartbeat"}`},
		{Name: "pong", Kind: KindPong, In: `{"method":"pong","req_id":3,"time_in":"a","time_out":"b"}`},
		{Name: "v1 trade (captured)", Kind: KindTrades, In: `[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]`,
			Check: func(t *testing.T, e Event) {
				tr := e.Trades[0]
				if tr.Market.String() != "kraken:XMR-USD" || tr.Buy || tr.Time != 1618678142557 || tr.FirstSeq != 0 {
					t.Fatalf("%+v", tr)
				}
			}},
		{Name: "v1 pair XBT is BTC", Kind: KindTrades, In: `[1,[["1","1","1.5","b","m",""]],"trade","XBT/CHF"]`,
			Check: func(t *testing.T, e Event) {
				if e.Trades[0].Market.String() != "kraken:BTC-CHF" {
					t.Fatal(e.Trades[0].Market)
				}
			}},
		{Name: "v1 heartbeat", Kind: KindHeartbeat, In: `{"event":"heartbeat"}`},
		{Name: "v1 book", Kind: KindOther, In: `[1,{"as":[]},"book-10","XBT/USD"]`},
		{Name: "5m ohlc is not ours", Kind: KindOther, In: `{"channel":"ohlc","type":"update","data":[{"symbol":"X/Y","interval":5}]}`},
		{Name: "not json", In: `{"channel":`, Bad: "cannot decode"},
		{Name: "nothing", In: `{}`, Bad: "no channel"},
		{Name: "ohlc bad time", In: `{"channel":"ohlc","data":[{"symbol":"X/Y","open":1,"high":1,"low":1,"close":1,"volume":1,"vwap":1,"interval":1,"interval_begin":"soon"}]}`, Bad: "interval_begin"},
		{Name: "ohlc high below low", In: `{"channel":"ohlc","data":[{"symbol":"X/Y","open":1,"high":1,"low":2,"close":1,"volume":1,"vwap":1,"interval":1,"interval_begin":"2026-01-01T00:00:00Z"}]}`, Bad: "below low"},
		{Name: "trade without id", In: `{"channel":"trade","data":[{"symbol":"X/Y","side":"buy","price":1,"qty":1,"timestamp":"2026-01-01T00:00:00Z"}]}`, Bad: "trade X/Y 0"},
		{Name: "v1 short array", In: `[1,[],"trade"]`, Bad: "v1 array"},
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, nil, cases)
}

// TestDecodeRealSessions decodes Kraken's recorded v1 sessions: every
// trade frame decodes, and the rest is recognised.
func TestDecodeRealSessions(t *testing.T) {
	for _, name := range []string{"KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"} {
		t.Run(name, func(t *testing.T) {
			counts := map[Kind]int{}
			var d Decoder
			for _, f := range realdata.Received(t, name) {
				e, err := d.Decode(f)
				if err != nil {
					t.Fatalf("real frame failed: %v\n%s", err, f)
				}
				counts[e.Kind]++
			}
			if counts[KindHeartbeat] == 0 || counts[KindOther] == 0 {
				t.Fatalf("kinds: %v", counts)
			}
			t.Logf("%v", counts)
		})
	}
}

func TestWindowsSettleOnTheNextWindow(t *testing.T) {
	w := windows{}
	row := func(min int, px string) market.Candle {
		c, err := Candle("BTC/USD", int64(min)*60_000, [6]string{px, px, px, px, "1", px}, 1, market.SourceKline)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	steps := []struct {
		in   market.Candle
		want string
	}{
		{row(0, "1"), "0 provisional"},                  // snapshot: completed window
		{row(1, "2"), "0 reconciled|60000 provisional"}, // later window settles it
		{row(1, "3"), "60000 provisional"},              // same window again
		{row(0, "1"), "0 reconciled"},                   // an older row is final
		{row(2, "4"), "60000 reconciled|120000 provisional"},
	}
	for i, s := range steps {
		var got []string
		for _, c := range w.apply(s.in) {
			got = append(got, strings.Join([]string{itoa(c.OpenTime), c.State.String()}, " "))
		}
		if strings.Join(got, "|") != s.want {
			t.Fatalf("step %d: %v, want %s", i, got, s.want)
		}
	}
	if c := w[Market("BTC/USD")]; c.Close.String() != "4" {
		t.Fatal(c)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestDecodeOHLC(t *testing.T) {
	m := Market("BTC/USD")
	body := `{"error":[],"result":{"XXBTZUSD":[[60,"1","2","0.5","1.5","1.25","4",3],[120,"1.5","1.5","1.5","1.5","1.5","0",0]],"last":60}}`
	cs, err := DecodeOHLC(m, []byte(body))
	if err != nil || len(cs) != 2 || cs[0].OpenTime != 60_000 || cs[0].State != market.Reconciled || cs[1].State != market.Provisional ||
		cs[0].Quote.String() != "5" || cs[0].Trades != 3 || cs[0].Volume.String() != "4" {
		t.Fatalf("%+v %v", cs, err)
	}
	if _, err := DecodeOHLC(m, []byte(`{"error":["EQuery:Unknown asset pair"]}`)); err == nil || !strings.Contains(err.Error(), "Unknown asset pair") {
		t.Fatal(err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"channel":"ohlc","type":"snapshot","data":[{"symbol":"BTC/USD","open":1,"high":2,"low":1,"close":2,"trades":2,"volume":1.5,"vwap":1.5,"interval_begin":"2026-10-06T18:06:00Z","interval":1}]}`))
	f.Add([]byte(`{"channel":"trade","data":[{"symbol":"BTC/USD","side":"sell","price":1e2,"qty":0.5,"trade_id":7,"timestamp":"2024-07-27T21:16:00.512060Z"}]}`))
	for _, name := range []string{"KRAKEN.ws.48.0", "KRAKEN.ws.50.0"} {
		for _, fr := range realdata.Seeds(name, 40) {
			f.Add(fr)
		}
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := d.Decode(data)
		if err != nil {
			return
		}
		for _, c := range e.Candles {
			if err := c.Validate(); err != nil || c.Market.Venue != Venue {
				t.Fatalf("decoded an invalid candle %+v: %v", c, err)
			}
		}
		for _, tr := range e.Trades {
			if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 || tr.Market.Symbol == "" {
				t.Fatalf("decoded an invalid trade %+v", tr)
			}
		}
	})
}

// TestQuietWindowsAreFlat: windows between two trades with consecutive
// ids had no trade and are final, flat at the earlier trade's price; a
// jump in ids, a repeat and id-less v1 trades settle nothing.
func TestQuietWindowsAreFlat(t *testing.T) {
	t.Parallel()
	m := Market("BTC/USD")
	tr := func(id, sec int64, px string) market.Trade {
		return market.Trade{Market: m, Time: sec * 1000, Price: market.MustDecimal(px), FirstSeq: id, LastSeq: id}
	}
	cases := []struct {
		name   string
		trades []market.Trade
		want   []int64 // open times (minutes) of the flat finals
	}{
		{"consecutive ids across two empty windows", []market.Trade{tr(5, 10, "1"), tr(6, 200, "2")}, []int64{1, 2}},
		{"same or next window: nothing", []market.Trade{tr(5, 10, "1"), tr(6, 20, "2"), tr(7, 70, "3")}, nil},
		{"an id jump: nothing", []market.Trade{tr(5, 10, "1"), tr(7, 200, "2")}, nil},
		{"a repeat: nothing", []market.Trade{tr(5, 10, "1"), tr(5, 200, "1")}, nil},
		{"v1 trades without ids: nothing", []market.Trade{tr(0, 10, "1"), tr(0, 200, "2")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := quiet{}
			var got []int64
			for _, x := range c.trades {
				for _, f := range q.apply(x) {
					if f.State != market.Reconciled || !f.Volume.IsZero() || !f.Open.Equal(c.trades[0].Price) || f.Trades != 0 {
						t.Errorf("flat %+v", f)
					}
					got = append(got, f.OpenTime/60_000)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("flat minutes %v, want %v", got, c.want)
			}
		})
	}
}
