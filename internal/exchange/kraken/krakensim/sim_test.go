package krakensim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/exchange/kraken"
	"github.com/candlewire/candlewire/internal/exchange/kraken/krakensim"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
)

// TestStreamSettlesLikeREST subscribes to ohlc and trade: acks per pair,
// a refusal for v1's XBT name, a snapshot, trade ids running on by one,
// and for every window the last row before a later window's row equals
// the REST row of that minute, so "final when the next window appears"
// gives the venue's own values. A ping gets its pong.
func TestStreamSettlesLikeREST(t *testing.T) {
	s := sim.New(sim.Config{Seed: 9, Speed: 120, History: 30 * time.Minute})
	krakensim.Mount(s, "/kraken")
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/kraken/v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, m := range []string{
		`{"method":"subscribe","params":{"channel":"ohlc","symbol":["BTC/USD","XBT/USD"],"interval":1,"snapshot":true},"req_id":1}`,
		`{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"],"snapshot":false},"req_id":2}`,
		`{"method":"ping","req_id":3}`,
	} {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	kinds := map[kraken.Kind]int{}
	refused, snapshots, settled := 0, 0, map[int64]market.Candle{}
	var cur market.Candle
	lastID := int64(0)
	for len(settled) < 4 {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (kinds %v, settled %d)", err, kinds, len(settled))
		}
		e, err := kraken.Decode(f)
		if err != nil {
			t.Fatalf("%v: %s", err, f)
		}
		kinds[e.Kind]++
		if e.Kind == kraken.KindReply && !e.OK {
			refused++
		}
		for _, tr := range e.Trades {
			if lastID > 0 && tr.FirstSeq != lastID+1 {
				t.Fatalf("trade id %d after %d", tr.FirstSeq, lastID)
			}
			lastID = tr.FirstSeq
		}
		if e.Snapshot {
			snapshots++
		}
		for _, row := range e.Candles {
			if !e.Snapshot && cur.OpenTime != 0 && row.OpenTime > cur.OpenTime {
				settled[cur.OpenTime] = cur
			}
			if row.OpenTime >= cur.OpenTime {
				cur = row
			}
		}
	}
	if refused != 1 || snapshots != 1 || kinds[kraken.KindPong] != 1 || kinds[kraken.KindReply] != 3 {
		t.Fatalf("refused %d, snapshots %d, kinds %v", refused, snapshots, kinds)
	}
	for open, ws := range settled {
		resp, err := http.Get(fmt.Sprintf("%s/kraken/0/public/OHLC?pair=XBTUSD&interval=1&since=%d", srv.URL, open/1000-1))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rows, err := kraken.DecodeOHLC(kraken.Market("BTC/USD"), body)
		if err != nil || len(rows) == 0 || rows[0].OpenTime != open {
			t.Fatalf("REST for %d: %v %s", open, err, body)
		}
		r := rows[0]
		if !r.Open.Equal(ws.Open) || !r.High.Equal(ws.High) || !r.Low.Equal(ws.Low) || !r.Close.Equal(ws.Close) ||
			!r.Volume.Equal(ws.Volume) || !r.Quote.Equal(ws.Quote) || r.Trades != ws.Trades || r.State != market.Reconciled {
			t.Errorf("minute %d: stream settled on %+v, REST has %+v", open, ws, r)
		}
	}
}

// TestHeartbeatWhenIdle: with nothing subscribed the connection still
// hears a heartbeat about once a second.
func TestHeartbeatWhenIdle(t *testing.T) {
	s := sim.New(sim.Config{Seed: 9, History: time.Minute})
	krakensim.Mount(s, "/kraken")
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/kraken/v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for {
		_, f, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("no heartbeat: %v", err)
		}
		if e, _ := kraken.Decode(f); e.Kind == kraken.KindHeartbeat {
			return
		}
	}
}

// TestOHLCOfShortPairs: a pair whose base is shorter than three letters
// (Kraken lists SCUSD; bench collect's C0/USD) is answered, and a pair
// too short to hold a quote is refused.
func TestOHLCOfShortPairs(t *testing.T) {
	s := sim.New(sim.Config{Seed: 9, History: 3 * time.Minute})
	krakensim.Mount(s, "/kraken")
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, tc := range []struct {
		pair string
		ok   bool
	}{{"C0USD", true}, {"SCUSD", true}, {"XBTUSD", true}, {"USD", false}} {
		resp, err := http.Get(srv.URL + "/kraken/0/public/OHLC?pair=" + tc.pair + "&interval=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rows, err := kraken.DecodeOHLC(market.Market{Venue: "kraken", Symbol: tc.pair}, body)
		if got := err == nil && len(rows) > 1; got != tc.ok {
			t.Errorf("OHLC of %s: %d rows, %v (%s); want rows: %v", tc.pair, len(rows), err, body, tc.ok)
		}
	}
}
