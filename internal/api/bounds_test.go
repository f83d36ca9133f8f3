package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// manySeries is stream i of many: nine intervals of each of 23 markets.
func manySeries(i int) market.Series {
	m := market.Market{Venue: "test", Symbol: fmt.Sprintf("S%02dUSDT", i/len(market.Intervals))}
	return market.Series{Market: m, Interval: market.Intervals[i%len(market.Intervals)]}
}

// fillMany stores bins final candles of each of n streams.
func fillMany(t *testing.T, st store.Store, n, bins int) []market.Series {
	t.Helper()
	var streams []market.Series
	for i := range n {
		s := manySeries(i)
		streams = append(streams, s)
		batch := make([]market.Candle, bins)
		for k := range batch {
			batch[k] = bin(s, 0, "100", true)
			batch[k].OpenTime = int64(k) * s.Interval.Millis()
		}
		if _, err := st.Upsert(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	return streams
}

// settledHeap is the heap in use once it stops changing: the server may
// still be filling the hostile client's socket buffers (loopback's can
// take tens of MiB before a write blocks), and what it has in hand then is
// not what it holds for a client that does not read.
func settledHeap() uint64 {
	last := heapInUse()
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		now := heapInUse()
		if max(now, last)-min(now, last) < 512<<10 {
			return now
		}
		last = now
	}
	return last
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSnapshotsAreReadInPages: a client that subscribes to 200 streams
// with the largest snapshot (1000 candles each, about 75 MiB when read at
// once) and never reads costs the server a bounded heap, read a page at a
// time as it takes them, while a normal client beside it gets its candles.
func TestSnapshotsAreReadInPages(t *testing.T) {
	const streams, bins = 200, maxSnapshot
	st := store.NewMemory(nil)
	all := fillMany(t, st, streams, bins)
	var markets []market.Market
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.String()
		if i%len(market.Intervals) == 0 {
			markets = append(markets, s.Market)
		}
	}
	h := hub.New(hub.Config{})
	mux := http.NewServeMux()
	New(Config{Store: st, Hub: h, Markets: markets}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer h.Close()
	r := &rig{hub: h, srv: srv}
	before := heapInUse()

	hostile := dialWS(t, r) // reads its ack, then nothing
	send(t, hostile, map[string]any{"op": "subscribe", "id": 1, "snapshot": maxSnapshot, "streams": names})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // generous: a loaded machine
	defer cancel()
	if _, data, err := hostile.Read(ctx); err != nil || !strings.Contains(string(data), `"type":"ack"`) {
		t.Fatalf("hostile subscribe: %s %v", data, err)
	}
	normal := dialWS(t, r)
	send(t, normal, map[string]any{"op": "subscribe", "id": 1, "snapshot": 1, "streams": names[:1]})
	for _, want := range []string{"ack", "candle"} {
		if m := readJSON(t, normal); m["type"] != want {
			t.Fatalf("normal client: %v, want %s", m, want)
		}
	}
	live := bin(all[0], bins, "7", true) // the next minute, after the stored ones
	res, err := st.Upsert(context.Background(), []market.Candle{live})
	if err != nil {
		t.Fatal(err)
	}
	h.Publish(res.Changed)
	if m := readJSON(t, normal); m["type"] != "candle" || m["candle"].(map[string]any)["c"] != "7" {
		t.Fatalf("normal client's live candle: %v", m)
	}
	grown := int64(settledHeap()) - int64(before)
	t.Logf("heap grew %.1f MiB with a hostile client's %d×%d snapshot pending", float64(grown)/(1<<20), streams, bins)
	if grown > 16<<20 {
		t.Fatalf("heap grew %.1f MiB for one client that does not read, want at most 16", float64(grown)/(1<<20))
	}
}

func send(t *testing.T, c *websocket.Conn, msg any) {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownStreamsAreRefused: a stream of a market that is not
// collected, a malformed one and one over 64 bytes get a 400 naming it on
// every transport (/v1/candles: its market); a collected stream of exactly
// 64 bytes is served.
func TestUnknownStreamsAreRefused(t *testing.T) {
	r := newRig(t, hub.Config{})
	r.minute(t, 0, btc) // a subscription wrongly accepted would get a snapshot
	long := strings.Repeat("X", 10_000)
	streams := []struct{ stream, want string }{
		{"nope:NOPE@1m", `stream \"nope:NOPE@1m\": market nope:NOPE is not collected`},
		{"binance:ETHUSDT@1m", `stream \"binance:ETHUSDT@1m\": market binance:ETHUSDT is not collected`},
		{"BTCUSDT", `stream \"BTCUSDT\"`},
		{"binance:BTCUSDT@7m", `stream \"binance:BTCUSDT@7m\"`},
		{"binance:" + long + "@1m", `stream \"binance:XXXXXXXXXXXXXXXXXXXXXXXX\"… (10011 bytes): at most 64 bytes`},
		{"binance:BTCUSDT" + strings.Repeat("0", 47) + "@1m", "(65 bytes): at most 64 bytes"},
	}
	c := dialWS(t, r)
	for _, tc := range streams {
		send(t, c, map[string]any{"op": "subscribe", "id": 9, "streams": []string{btc.String(), tc.stream}})
		m := readJSON(t, c)
		if msg, _ := json.Marshal(m["message"]); m["code"] != 400.0 || !strings.Contains(string(msg), tc.want) {
			t.Errorf("ws %.40s: %v, want a 400 with %s", tc.stream, m, tc.want)
		}
		for _, path := range []string{"/v1/sse?streams=", "/v1/poll?streams="} {
			code, body := ask(t, r.srv.URL+path+url.QueryEscape(btc.String()+","+tc.stream))
			if code != 400 || !strings.HasPrefix(body, `{"error":`) || !strings.Contains(body, tc.want) {
				t.Errorf("%s%.40s: %d %s, want a 400 with %s", path, tc.stream, code, body, tc.want)
			}
		}
	}
	send(t, c, map[string]any{"op": "ping", "id": 10})
	if m := readJSON(t, c); m["type"] != "pong" {
		t.Fatalf("after refused subscriptions: %v, want only the pong", m)
	}
	markets := []struct{ market, want string }{
		{"nope:NOPE", `market \"nope:NOPE\" is not collected`},
		{"BTCUSDT", `market \"BTCUSDT\"`},
		{"binance:" + long, "(10008 bytes): at most 64 bytes"},
	}
	for _, tc := range markets {
		code, body := ask(t, r.srv.URL+"/v1/candles?market="+url.QueryEscape(tc.market))
		if code != 400 || !strings.HasPrefix(body, `{"error":`) || !strings.Contains(body, tc.want) {
			t.Errorf("/v1/candles?market=%.40s: %d %s, want a 400 with %s", tc.market, code, body, tc.want)
		}
	}
	longest(t, r)
}

// longest: a collected stream whose name has exactly maxStreamName bytes
// is served.
func longest(t *testing.T, r *rig) {
	s := market.Series{Market: market.Market{Venue: "binance", Symbol: "B" + strings.Repeat("T", 52)}, Interval: market.I1m}
	if n := len(s.String()); n != maxStreamName {
		t.Fatalf("the longest stream has %d bytes", n)
	}
	mux := http.NewServeMux()
	New(Config{Store: r.st, Hub: r.hub, Markets: []market.Market{s.Market}}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := dialWS(t, &rig{srv: srv})
	send(t, c, map[string]any{"op": "subscribe", "id": 1, "streams": []string{s.String()}})
	if m := readJSON(t, c); m["type"] != "ack" {
		t.Fatalf("a collected stream of %d bytes: %v", maxStreamName, m)
	}
	if code, body := ask(t, srv.URL+"/v1/candles?market="+s.Market.String()); code != 200 {
		t.Fatalf("a collected market of the longest stream: %d %s", code, body)
	}
	c.CloseNow()
}

// threeMinutes is a rig with three minutes of btc and xbt stored, and a
// subscription of it to nothing yet, closed when the test ends.
func threeMinutes(t *testing.T) (*rig, *subscription) {
	r := newRig(t, hub.Config{})
	for m := range 3 {
		r.minute(t, m, btc, xbt)
	}
	f := newSubscription(r.st, r.hub)
	t.Cleanup(f.Close)
	return r, f
}

// TestSnapshotPagesKeepOrder: snapshots read as the client takes them
// come a stream at a time, oldest first, before any live change; a row
// stored after the subscription is sent once (the snapshot has it, its
// live copy is skipped), and an unsubscribed stream's pending snapshot is
// dropped.
func TestSnapshotPagesKeepOrder(t *testing.T) {
	r, f := threeMinutes(t)
	ctx := context.Background()
	if err := f.snapshot(ctx, []hub.Stream{btc, xbt}, 2); err != nil {
		t.Fatal(err)
	}
	r.write(t, bin(btc, 2, "999", true), bin(xbt, 3, "5", false)) // after the subscription, before any read
	var got []string
	for {
		u, err := f.next(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if u == nil {
			break
		}
		got = append(got, fmt.Sprintf("%s/%d/%s", u.Stream.Market.Symbol, u.Candle.OpenTime/60_000, u.Candle.Close))
	}
	want := "[BTCUSDT/1/101.9 BTCUSDT/2/999 XBTUSD/2/102.9 XBTUSD/3/5]" // the newest two when read: minute 3 is one
	if fmt.Sprint(got) != want {
		t.Fatalf("delivered %v, want %s", got, want)
	}
	if n := len(f.streams[btc].snap); n != 1 {
		t.Errorf("%d snapshot rows kept to skip their live copies, want only the one stored after the subscription", n)
	}
	g := newSubscription(r.st, r.hub)
	defer g.Close()
	if err := g.snapshot(ctx, []hub.Stream{btc, xbt}, 1); err != nil {
		t.Fatal(err)
	}
	g.remove([]hub.Stream{xbt})
	if u, _ := g.next(ctx, false); u == nil || u.Stream != btc {
		t.Fatalf("first after unsubscribing xbt: %v", u)
	}
	if u, err := g.next(ctx, false); u != nil || err != nil {
		t.Fatalf("after the one snapshot left: %v, %v", u, err)
	}
}

// TestNoReadsLeavesTheStoreToAWorker: a step that must not wait (in a
// fan-out's part) gets errWouldRead where the next change is in the store,
// reads nothing, and delivers what it already holds.
func TestNoReadsLeavesTheStoreToAWorker(t *testing.T) {
	_, f := threeMinutes(t)
	ctx := context.Background()
	if err := f.resume(ctx, []hub.Stream{btc, xbt}, 0); err != nil {
		t.Fatal(err)
	}
	f.noReads = true
	if u, err := f.next(ctx, false); u != nil || err != errWouldRead || len(f.backlog) != 0 {
		t.Fatalf("catching up without reads: %v, %v, %d read; want errWouldRead and nothing read", u, err, len(f.backlog))
	}
	f.noReads = false
	first, err := f.next(ctx, false)
	if first == nil || err != nil {
		t.Fatalf("catching up: %v, %v", first, err)
	}
	f.noReads = true
	n := 1
	for {
		u, err := f.next(ctx, false)
		if err != nil {
			t.Fatalf("after %d: %v", n, err)
		}
		if u == nil {
			break
		}
		n++
	}
	if want := len(f.streams) * 3; n != want {
		t.Fatalf("%d changes delivered from the page read, want %d", n, want)
	}
}
