package bus

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/candlewire/candlewire/internal/market"
)

func TestSubject(t *testing.T) {
	for _, c := range []struct {
		venue, symbol string
		iv            market.Interval
		want          string
	}{
		{"binance", "BTCUSDT", market.I1m, "candles.binance.BTCUSDT.1m"},
		{"okx", "BTC-USDT", market.I1h, "candles.okx.BTC-USDT.1h"},
		{"kraken", "XBT/USD", market.I5m, "candles.kraken.XBT/USD.5m"},
		{"x", "A.B*C>D E%", market.I1m, "candles.x.A%2EB%2AC%3ED%20E%25.1m"},
		{"x", "", market.I1m, "candles.x.%00.1m"},
		{"x", "é", market.I1m, "candles.x.%C3%A9.1m"},
	} {
		got := Subject(market.Series{Market: market.Market{Venue: c.venue, Symbol: c.symbol}, Interval: c.iv})
		if got != c.want {
			t.Errorf("Subject(%s:%s@%s) = %q, want %q", c.venue, c.symbol, c.iv, got, c.want)
		}
		if strings.Count(got, ".") != 3 {
			t.Errorf("%q has not four tokens", got)
		}
	}
}

func sample() market.Candle {
	d := market.MustDecimal
	return market.Candle{Market: market.Market{Venue: "binance", Symbol: "BTCUSDT"}, Interval: market.I1m, OpenTime: 120_000,
		Open: d("100.5"), High: d("101"), Low: d("99.25"), Close: d("100"), Volume: d("1.125"), Quote: d("112.5"), Trades: 7,
		State: market.Reconciled, Rev: 3, Source: market.SourceREST, Updated: 5}
}

func TestMessageRoundTrip(t *testing.T) {
	c := sample()
	m, err := encode(change{candle: c, seq: 42, prev: 40}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get(nats.MsgIdHdr); got != "7:42" {
		t.Errorf("Nats-Msg-Id %q", got)
	}
	ch, err := decode(m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	c.Seq = 42
	if ch.seq != 42 || ch.prev != 40 || ch.candle != c {
		t.Fatalf("decoded %+v, want %+v after 40", ch, c)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := func() (nats.Header, []byte) {
		m, err := encode(change{candle: sample(), seq: 42, prev: 40}, 7)
		if err != nil {
			t.Fatal(err)
		}
		return m.Header, m.Data
	}
	for _, c := range []struct {
		name string
		edit func(h nats.Header, data []byte) []byte
	}{
		{"no sequence", func(h nats.Header, d []byte) []byte { h.Del(hdrSeq); return d }},
		{"prev not before seq", func(h nats.Header, d []byte) []byte { h.Set(hdrPrev, "42"); return d }},
		{"negative prev", func(h nats.Header, d []byte) []byte { h.Set(hdrPrev, "-1"); return d }},
		{"not JSON", func(h nats.Header, d []byte) []byte { return []byte("{") }},
		{"bad decimal", func(h nats.Header, d []byte) []byte { return []byte(strings.Replace(string(d), `"100.5"`, `"1x"`, 1)) }},
		{"unknown state", func(h nats.Header, d []byte) []byte {
			return []byte(strings.Replace(string(d), `"reconciled"`, `"done"`, 1))
		}},
		{"high below low", func(h nats.Header, d []byte) []byte {
			return []byte(strings.Replace(string(d), `"h":"101"`, `"h":"1"`, 1))
		}},
		{"too long", func(h nats.Header, d []byte) []byte { return append(d, make([]byte, MaxMessage)...) }},
	} {
		h, d := good()
		if _, err := decode(h, c.edit(h, d)); err == nil {
			t.Errorf("%s: decoded", c.name)
		}
	}
}

// FuzzDecode: no message crashes the decoder, and what it accepts is a
// valid candle whose sequence number follows prev.
func FuzzDecode(f *testing.F) {
	m, err := encode(change{candle: sample(), seq: 42, prev: 40}, 7)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("42", "40", m.Data)
	f.Add("1", "0", []byte(`{"venue":"v","symbol":"s","interval":"1m","t":0,"o":"1","h":"1","l":"1","c":"1","v":"0","q":"0","state":"closed"}`))
	f.Fuzz(func(t *testing.T, seq, prev string, data []byte) {
		h := nats.Header{}
		h.Set(hdrSeq, seq)
		h.Set(hdrPrev, prev)
		ch, err := decode(h, data)
		if err != nil {
			return
		}
		if err := ch.candle.Validate(); err != nil || ch.prev >= ch.seq || ch.candle.Seq != ch.seq {
			t.Fatalf("accepted %+v: %v", ch, err)
		}
	})
}
