package coinbase

import (
	"errors"
	"testing"

	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		kind     Kind
		check    func(t *testing.T, e Event)
	}{
		{"match: maker sold, so the taker bought",
			`{"type":"match","trade_id":1568268,"maker_order_id":"cac01d6d","taker_order_id":"3dec64e4","side":"sell","size":"450","price":"0.791","product_id":"SKL-USD","sequence":201390075,"time":"2021-04-17T16:43:37.121358Z"}`,
			KindMatch, func(t *testing.T, e Event) {
				tr := e.Trade
				if tr.Market != (market.Market{Venue: "coinbase", Symbol: "SKL-USD"}) || tr.Time != 1618677817121 || !tr.Buy ||
					tr.Price.String() != "0.791" || tr.Size.String() != "450" || tr.Quote.String() != "355.95" ||
					tr.FirstSeq != 1568268 || tr.LastSeq != 1568268 {
					t.Fatalf("%+v", tr)
				}
			}},
		{"last_match, maker bought",
			`{"type":"last_match","trade_id":881613,"side":"buy","size":"0.04","price":"14.7775","product_id":"BAND-GBP","sequence":333938798,"time":"2021-04-17T16:43:30.244075Z"}`,
			KindLastMatch, func(t *testing.T, e Event) {
				if e.Trade.Buy || e.Trade.LastSeq != 881613 || e.Market.Symbol != "BAND-GBP" {
					t.Fatalf("%+v", e.Trade)
				}
			}},
		{"heartbeat",
			`{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}`,
			KindHeartbeat, func(t *testing.T, e Event) {
				if e.LastTradeID != 20 || e.Time != 1415348368464 || e.Market.Symbol != "BTC-USD" {
					t.Fatalf("%+v", e)
				}
			}},
		{"subscriptions list the matches products",
			`{"type":"subscriptions","channels":[{"name":"level2","product_ids":["X-Y"]},{"name":"matches","product_ids":["BTC-USD","ETH-USD"]}]}`,
			KindSubscriptions, func(t *testing.T, e Event) {
				if len(e.Subscribed) != 2 || e.Subscribed[1] != "ETH-USD" {
					t.Fatalf("%v", e.Subscribed)
				}
			}},
		{"error", `{"type":"error","message":"Failed to subscribe","reason":"FOO-BAR is not a valid product"}`, KindError,
			func(t *testing.T, e Event) {
				if e.Msg != "Failed to subscribe (FOO-BAR is not a valid product)" {
					t.Fatal(e.Msg)
				}
			}},
		{"unknown types are other", `{"type":"ticker","product_id":"BTC-USD","price":"1"}`, KindOther, nil},
		{"unknown fields are ignored", `{"type":"status","products":[],"new_field":{"a":[1,2]}}`, KindOther, nil},
	}
	var table []exchangetest.DecodeCase[Event, Kind]
	for _, c := range cases {
		table = append(table, exchangetest.DecodeCase[Event, Kind]{Name: c.name, In: c.in, Kind: c.kind, Check: c.check})
	}
	exchangetest.RunDecode(t, Decode, func(e Event) Kind { return e.Kind }, nil, table)
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		``, `[]`, `{}`, `{"type":"match"`, `"match"`,
		`{"type":"match","trade_id":1,"side":"sell","size":"1","price":"abc","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`,
		`{"type":"match","trade_id":1,"side":"sell","size":"-1","price":"1","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`,
		`{"type":"match","trade_id":0,"side":"sell","size":"1","price":"1","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`,
		`{"type":"match","trade_id":1,"side":"up","size":"1","price":"1","product_id":"BTC-USD","time":"2021-04-17T16:43:37Z"}`,
		`{"type":"match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"","time":"2021-04-17T16:43:37Z"}`,
		`{"type":"match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"BTC-USD","time":"yesterday"}`,
		`{"type":"heartbeat","last_trade_id":5,"product_id":"BTC-USD","time":""}`,
		`{"type":"match","trade_id":"1"}`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: err %v, want ErrDecode", in, err)
		}
	}
}

// TestDecodeRealSession decodes Coinbase's recorded session: every frame
// decodes, and each product's matches follow its last_match with trade ids
// that grow by exactly one, so the tape finds no gap.
func TestDecodeRealSession(t *testing.T) {
	counts := map[Kind]int{}
	last := map[market.Market]int64{}
	var d Decoder
	for _, f := range realdata.Received(t, "COINBASE.ws.28.0") {
		e, err := d.Decode(f)
		if err != nil {
			t.Fatalf("real frame failed: %v\n%s", err, f)
		}
		counts[e.Kind]++
		switch e.Kind {
		case KindLastMatch:
			last[e.Market] = e.Trade.LastSeq
		case KindMatch:
			if prev := last[e.Market]; prev == 0 || e.Trade.LastSeq != prev+1 {
				t.Errorf("%s: trade %d after %d", e.Market, e.Trade.LastSeq, prev)
			}
			last[e.Market] = e.Trade.LastSeq
		}
	}
	if counts[KindMatch] != 97 || counts[KindLastMatch] != 10 || counts[KindSubscriptions] != 3 || counts[KindOther] == 0 {
		t.Fatalf("kinds: %v", counts)
	}
	t.Logf("%v", counts)
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"match","trade_id":1,"side":"sell","size":"1e-3","price":"10","product_id":"BTC-USD","time":"2021-04-17T16:43:37.121358Z"}`))
	f.Add([]byte(`{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}`))
	f.Add([]byte(`{"type":"subscriptions","channels":[{"name":"matches","product_ids":["BTC-USD"]}]}`))
	for _, fr := range realdata.Seeds("COINBASE.ws.28.0", 60) {
		f.Add(fr)
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := d.Decode(data)
		if err != nil {
			return
		}
		if e.Kind == KindMatch || e.Kind == KindLastMatch {
			tr := e.Trade
			if tr.Price.Sign() <= 0 || tr.Size.Sign() <= 0 || tr.Market.Symbol == "" || tr.LastSeq <= 0 || !tr.Quote.Equal(tr.Price.Mul(tr.Size)) {
				t.Fatalf("decoded an invalid trade %+v", tr)
			}
		}
	})
}
