package bitmex

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []exchangetest.DecodeCase[Event, Kind]{
		{Name: "2021 welcome with limit", Kind: KindWelcome,
			In: `{"info":"Welcome to the BitMEX Realtime API.","version":"2021-07-14T01:26:29.000Z","timestamp":"2021-07-22T22:36:07.865Z","docs":"https://www.bitmex.com/app/wsAPI","limit":{"remaining":39}}`,
			Check: func(t *testing.T, e Event) {
				if e.Welcome.Limit == nil || e.Welcome.Limit.Remaining != 39 {
					t.Fatalf("%+v", e.Welcome)
				}
			}},
		{Name: "2026 welcome without limit", Kind: KindWelcome,
			In: `{"info":"Welcome to the BitMEX Realtime API.","version":"2.0.0","timestamp":"2026-09-02T07:44:44.033Z","docs":"https://www.bitmex.com/app/wsAPI","heartbeatEnabled":false,"appName":"ws-feedhandler"}`,
			Check: func(t *testing.T, e Event) {
				if e.Welcome.Limit != nil || e.Welcome.Version != "2.0.0" {
					t.Fatalf("%+v", e.Welcome)
				}
			}},
		{Name: "ack with pool", Kind: KindAck,
			In: `{"success":true,"subscribe":"trade:XBTUSD","pool":"Aggregated","request":{"op":"subscribe","args":["trade:XBTUSD","quote:XBTUSD"]}}`,
			Check: func(t *testing.T, e Event) {
				if e.Ack == nil || !e.Ack.Success || e.Ack.Subscribe != "trade:XBTUSD" {
					t.Fatalf("%+v", e.Ack)
				}
			}},
		{Name: "unknown table", Kind: KindError,
			In: `{"status":400,"error":"Unknown table: tradeBin5dm","meta":{},"request":{"op":"subscribe","args":["tradeBin1m","tradeBin5dm"]}}`,
			Check: func(t *testing.T, e Event) {
				if e.Err.Status != 400 || !strings.Contains(e.Err.Message, "Unknown table") {
					t.Fatalf("%+v", e.Err)
				}
			}},
		{Name: "rate limit with meta", Kind: KindError,
			In: `{"status":429,"error":"Rate limit exceeded, retry in 1 seconds.","meta":{"retryAfter":1},"request":{"op":"subscribe","args":"orderBook"}}`,
			Check: func(t *testing.T, e Event) {
				if e.Err.Status != 429 || e.Err.RetryAfter != time.Second {
					t.Fatalf("%+v", e.Err)
				}
			}},
		{Name: "bare rate limit", Kind: KindError, In: `{"error":"Rate limit exceeded, retry in 29 seconds."}`,
			Check: func(t *testing.T, e Event) {
				if e.Err.Status != 429 || e.Err.RetryAfter != 29*time.Second {
					t.Fatalf("%+v", e.Err)
				}
			}},
		{Name: "object error", Kind: KindError, In: `{"error":{"message":"Not Found","name":"HTTPError"}}`,
			Check: func(t *testing.T, e Event) {
				if e.Err.Message != "HTTPError: Not Found" {
					t.Fatalf("%q", e.Err.Message)
				}
			}},
		{Name: "pong", Kind: KindPong, In: "pong"},
		{Name: "trade insert (captured)", Kind: KindTable,
			In: `{"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","side":"Buy","size":100,"price":32180.5,"tickDirection":"PlusTick","trdMatchID":"6e70bebe-235e-08a6-d11b-e1042bf1f2ed","grossValue":310747,"homeNotional":0.00310747,"foreignNotional":100},{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","side":"Buy","size":900,"price":32180.5,"tickDirection":"ZeroPlusTick","trdMatchID":"132702bb-2daa-0b5a-cb86-01882dd0348b","grossValue":2796723,"homeNotional":0.02796723,"foreignNotional":900}]}`,
			Check: func(t *testing.T, e Event) {
				if len(e.Trades) != 2 || e.Trades[1].Size.String() != "900" || e.Trades[0].Price.String() != "32180.5" || e.Trades[0].Time != 1626993371685 {
					t.Fatalf("%+v", e.Trades)
				}
			}},
		{Name: "bin stamped with its end is stored at its start", Kind: KindTable,
			In: `{"table":"tradeBin1m","action":"insert","data":[{"timestamp":"2019-08-23T14:34:00.000Z","symbol":"XBTUSD","open":10394,"high":10394,"low":10388.5,"close":10388.5,"trades":413,"volume":1204198,"vwap":10390.6899,"lastSize":1000,"turnover":11589499007,"homeNotional":115.89499006999998,"foreignNotional":1204198}]}`,
			Check: func(t *testing.T, e Event) {
				c := e.Bins[0]
				want := time.Date(2019, 8, 23, 14, 33, 0, 0, time.UTC).UnixMilli()
				if c.OpenTime != want || c.State != market.Reconciled || c.Trades != 413 || c.Volume.String() != "1204198" || c.Source != market.SourceBin {
					t.Fatalf("%+v", c)
				}
			}},
		{Name: "open outside low/high is kept", Kind: KindTable,
			In: `{"table":"tradeBin1m","action":"insert","data":[{"timestamp":"2017-01-01T00:01:00.000Z","symbol":"XBTUSD","open":968.29,"high":968.76,"low":968.49,"close":968.7,"trades":5,"volume":100}]}`,
			Check: func(t *testing.T, e Event) {
				if len(e.Bins) != 1 || e.Bins[0].Open.String() != "968.29" || e.Bins[0].Low.String() != "968.49" {
					t.Fatalf("%+v", e.Bins)
				}
			}},
		{Name: "empty bin without vwap", Kind: KindTable,
			In: `{"table":"tradeBin1m","action":"insert","data":[{"timestamp":"2021-12-16T08:35:00.000Z","symbol":"XBTUSD","open":48745,"high":48745,"low":48745,"close":48745,"trades":0,"volume":0,"turnover":0,"homeNotional":0,"foreignNotional":0}]}`,
			Check: func(t *testing.T, e Event) {
				if len(e.Bins) != 1 || e.Bins[0].Trades != 0 {
					t.Fatalf("%+v", e.Bins)
				}
			}},
		{Name: "5m bin", Kind: KindTable,
			In: `{"table":"tradeBin5m","action":"insert","data":[{"timestamp":"2021-12-16T08:35:00.000Z","symbol":"XBTUSD","open":1,"high":1,"low":1,"close":1,"trades":0,"volume":0}]}`,
			Check: func(t *testing.T, e Event) {
				if e.Bins[0].Interval != market.I5m || e.Bins[0].OpenTime != time.Date(2021, 12, 16, 8, 30, 0, 0, time.UTC).UnixMilli() {
					t.Fatalf("%+v", e.Bins[0])
				}
			}},
		{Name: "other pool and pseudo-trade skipped", Kind: KindTable,
			In: `{"table":"trade","action":"insert","data":[{"timestamp":"2026-09-02T07:34:37.309Z","symbol":"XBTUSD","size":1,"price":1,"pool":"Primary"},{"timestamp":"2026-09-02T07:34:37.309Z","symbol":".BXBT","size":0,"price":1}]}`,
			Check: func(t *testing.T, e Event) {
				if len(e.Trades) != 0 || e.Skipped != 2 {
					t.Fatalf("%+v", e)
				}
			}},
		{Name: "delete", Kind: KindTable, In: `{"table":"trade","action":"delete","data":[{"symbol":"XBTUSD"}]}`},
		{Name: "unknown action", In: `{"table":"trade","action":"explode","data":[]}`, Bad: "unknown action"},
		{Name: "not json", In: `{"table":`, Bad: "cannot decode"},
		{Name: "nothing known", In: `{"foo":1}`, Bad: "no table"},
		{Name: "rows not an array", In: `{"table":"trade","action":"insert","data":{"a":1}}`, Bad: "trade rows"},
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, ErrDecode, cases)
}

func TestDecodeRealSession(t *testing.T) {
	trades, welcomes, acks := 0, 0, 0
	for _, f := range realdata.Received(t, "BITMEX.ws.1.0") {
		e, err := Decode(f)
		if err != nil {
			t.Fatalf("real frame failed: %v\n%.300s", err, f)
		}
		switch e.Kind {
		case KindWelcome:
			welcomes++
		case KindAck:
			acks++
		case KindTable:
			trades += len(e.Trades)
		}
	}
	if welcomes != 1 || acks == 0 || trades == 0 {
		t.Fatalf("welcomes=%d acks=%d trades=%d", welcomes, acks, trades)
	}
}

func TestDecodeQuotedBins(t *testing.T) {
	bins, outside, empty := 0, 0, 0
	for _, q := range realdata.QuotedBins(t) {
		var cs []market.Candle
		if q.Kind == "rest" {
			var err error
			if cs, err = DecodeBuckets([]byte(q.Message), market.I1m); err != nil {
				t.Fatalf("%s: %v", q.Source, err)
			}
		} else {
			e, err := Decode([]byte(q.Message))
			if err != nil {
				t.Fatalf("%s: %v", q.Source, err)
			}
			cs = e.Bins
		}
		for _, c := range cs {
			bins++
			if c.Open.LessThan(c.Low) || c.Open.GreaterThan(c.High) {
				outside++
			}
			if c.Trades == 0 {
				empty++
			}
		}
	}
	if bins == 0 || outside == 0 || empty == 0 {
		t.Fatalf("bins=%d open-outside=%d empty=%d; the quoted file has all three", bins, outside, empty)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"table":"tradeBin1m","action":"insert","data":[{"timestamp":"2019-08-23T14:34:00.000Z","symbol":"XBTUSD","open":1,"high":2,"low":1,"close":2,"trades":3,"volume":4}]}`))
	f.Add([]byte(`{"table":"trade","action":"partial","data":[{"timestamp":"2021-07-22T22:35:59.790Z","symbol":"XBTUSD","side":"Buy","size":1000,"price":32175}]}`))
	f.Add([]byte(`{"status":429,"error":"Rate limit exceeded, retry in 1 seconds.","meta":{"retryAfter":1}}`))
	f.Add([]byte("pong"))
	for _, fr := range realdata.Seeds("BITMEX.ws.1.0", 40) {
		f.Add(fr)
	}
	for _, m := range realdata.QuotedSeeds("ws") {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			return
		}
		for _, c := range e.Bins {
			if err := c.Validate(); err != nil {
				t.Fatalf("decoded an invalid bin: %v", err)
			}
		}
		for _, tr := range e.Trades {
			if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 {
				t.Fatalf("decoded an invalid trade: %+v", tr)
			}
		}
	})
}

func FuzzDecodeBuckets(f *testing.F) {
	f.Add([]byte(`[{"timestamp":"2015-09-25T13:38:00.000Z","symbol":"XBTUSD","open":237.45,"high":237.45,"low":237.45,"close":237.45,"trades":0,"volume":0,"vwap":null,"lastSize":null,"turnover":0,"homeNotional":0,"foreignNotional":0}]`))
	f.Add([]byte(`[]`))
	for _, m := range realdata.QuotedSeeds("rest") {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := DecodeBuckets(body, market.I1m)
		if err != nil {
			return
		}
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				t.Fatalf("decoded an invalid bin: %v", err)
			}
		}
	})
}

func BenchmarkDecodeTradeInsert(b *testing.B) {
	frame := []byte(`{"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","side":"Buy","size":100,"price":32180.5,"tickDirection":"PlusTick","trdMatchID":"6e70bebe-235e-08a6-d11b-e1042bf1f2ed","grossValue":310747,"homeNotional":0.00310747,"foreignNotional":100}]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFastMatchesDecode: whatever the Decoder's fast path accepts, Decode
// accepts too and decodes to the same event.
func FuzzFastMatchesDecode(f *testing.F) {
	f.Add([]byte(tradeInsert))
	f.Add([]byte(`{"table":"trade","action":"insert","data":[{"timestamp":"2024-02-29T23:59:59.999Z","symbol":"XBTUSD","size":1,"price":1e2,"foreignNotional":2.5E-3,"pool":"Aggregated"},{"timestamp":"2021-04-31T00:00:00.000Z","symbol":"X","size":1,"price":1}]}`))
	f.Add([]byte(`{"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","Price":1,"price":2,"size":3}]}`))
	for _, fr := range realdata.Seeds("BITMEX.ws.1.0", 60) {
		f.Add(fr)
	}
	for _, m := range realdata.QuotedSeeds("ws") {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		exchangetest.FastMatchesFull(t, data, d.fast, Decode)
	})
}

// TestFastPathTakesRealFrames: every real trade insert of the recording,
// and every quoted real tradeBin1m insert, goes through the fast path, to
// the same event as Decode.
func TestFastPathTakesRealFrames(t *testing.T) {
	var d Decoder
	exchangetest.FastTakes(t, realdata.Frames(t, "BITMEX.ws.1.0", realdata.Has(`{"table":"trade","action":"insert"`)), d.fast, Decode, tradeShape)
	var bins [][]byte
	for _, q := range realdata.QuotedBins(t) {
		if q.Kind == "ws" {
			bins = append(bins, []byte(q.Message))
		}
	}
	exchangetest.FastTakes(t, realdata.Distinct(bins, realdata.Has(`{"table":"tradeBin1m","action":"insert"`)), d.fast, Decode, binShape)
}

const tradeInsert = `{"table":"trade","action":"insert","data":[{"timestamp":"2021-07-22T22:36:11.685Z","symbol":"XBTUSD","side":"Buy","size":100,"price":32180.5,"tickDirection":"PlusTick","trdMatchID":"6e70bebe-235e-08a6-d11b-e1042bf1f2ed","grossValue":310747,"homeNotional":0.00310747,"foreignNotional":100}]}`

// BenchmarkTradeInsertToCandle is the hot path: one trade insert (one row,
// as most are) decoded by the feed's Decoder and applied to the candle
// engine.
func BenchmarkTradeInsertToCandle(b *testing.B) {
	frames := make([][]byte, 64)
	for i := range frames { // prices and times move, so candles change and minutes roll
		frames[i] = []byte(strings.NewReplacer("32180.5", fmt.Sprintf("32%03d.5", i*7%1000), "22:36:11.685", fmt.Sprintf("22:%02d:%02d.%03d", 36+i/60, i%60, i)).Replace(tradeInsert))
	}
	var d Decoder
	eng := candle.NewEngine(market.Market{Venue: Venue, Symbol: "XBTUSD"})
	b.ReportAllocs()
	b.SetBytes(int64(len(frames[0])))
	for i := 0; b.Loop(); i++ {
		e, err := d.Decode(frames[i%len(frames)])
		if err != nil || len(e.Trades) != 1 {
			b.Fatal(err)
		}
		for _, t := range e.Trades {
			t.Time += int64(i/len(frames)) * 60_000
			eng.Trade(t)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkDecoderTradeInsert is the Decoder (fast path) alone, to compare with the full
// decoder's benchmark above.
func BenchmarkDecoderTradeInsert(b *testing.B) {
	frame := []byte(tradeInsert)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := d.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}
