package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/candle"
	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/exchange/binance"
	"github.com/candlewire/candlewire/internal/exchange/bitmex"
	"github.com/candlewire/candlewire/internal/exchange/coinbase"
	"github.com/candlewire/candlewire/internal/exchange/kraken"
	"github.com/candlewire/candlewire/internal/exchange/okx"
	"github.com/candlewire/candlewire/internal/exchange/registry"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/upstream"
)

// decoded is what one frame of a recording gives a sink, as the venue's
// feed would hand it over.
type decoded struct {
	trades []market.Trade
	bins   []market.Candle
}

// recordings are the real sessions replayed, with how each venue's frames
// are dispatched and the path the replay serves its WebSocket at.
var recordings = []struct {
	file, venue, wsPath string
	decoder             func(frames [][]byte) func([]byte) decoded
}{
	{"BINANCE.ws.1.0", "binance", "", stateless(decodeBinance)},
	{"BINANCE_FUTURES.ws.1.0", "binance", "", stateless(decodeBinance)},
	{"BITMEX.ws.1.0", "bitmex", "/realtime", stateless(decodeBitmex)},
	{"OKX.ws.1.0", "okx", "", stateless(decodeOKX)},
	{"COINBASE.ws.28.0", "coinbase", "", coinbaseDecoder},
	// KRAKEN.ws.49.0 and .50.0 hold only ticker and book frames: no
	// candle, so nothing to compare (the decoder test reads them).
	{"KRAKEN.ws.48.0", "kraken", "", stateless(decodeKraken)},
}

// decodeKraken reads Kraken's v1 frames (the recordings' API): trades.
func decodeKraken(f []byte) decoded {
	e, err := kraken.Decode(f)
	if err != nil {
		return decoded{}
	}
	return decoded{trades: slices.Clone(e.Trades), bins: slices.Clone(e.Candles)}
}

func stateless(f func([]byte) decoded) func([][]byte) func([]byte) decoded {
	return func([][]byte) func([]byte) decoded { return f }
}

// coinbaseDecoder builds candles from the recording's matches as the
// Coinbase feed does: through the tapes of every product in it.
func coinbaseDecoder(frames [][]byte) func([]byte) decoded {
	seen := map[market.Market]bool{}
	for _, f := range frames {
		if e, err := coinbase.Decode(f); err == nil && e.Market.Symbol != "" {
			seen[e.Market] = true
		}
	}
	tapes := coinbase.NewTapes(slices.Collect(maps.Keys(seen)))
	var d coinbase.Decoder
	return func(f []byte) decoded {
		e, err := d.Decode(f)
		if err != nil {
			return decoded{}
		}
		trade, finals, _ := tapes.Apply(e)
		out := decoded{bins: slices.Clone(finals)}
		if trade {
			out.trades = []market.Trade{e.Trade}
		}
		return out
	}
}

func decodeBinance(f []byte) decoded {
	e, err := binance.Decode(f)
	switch {
	case err != nil:
	case e.Kind == binance.KindTrade:
		return decoded{trades: []market.Trade{e.Trade}}
	case e.Kind == binance.KindKline:
		return decoded{bins: []market.Candle{e.Candle}}
	}
	return decoded{}
}

func decodeBitmex(f []byte) decoded {
	var d bitmex.Decoder
	e, err := d.Decode(f)
	switch {
	case err != nil || e.Kind != bitmex.KindTable:
	case e.Table == "trade" && (e.Action == "insert" || e.Action == "update"):
		return decoded{trades: slices.Clone(e.Trades)}
	case e.Table == "tradeBin1m" && e.Action != "delete":
		return decoded{bins: slices.Clone(e.Bins)}
	}
	return decoded{}
}

func decodeOKX(f []byte) decoded {
	e, err := okx.Decode(f)
	if err != nil {
		return decoded{}
	}
	return decoded{trades: slices.Clone(e.Trades), bins: slices.Clone(e.Candles)}
}

// fileFeed hands a recording's decoded frames straight to the sink.
type fileFeed struct{ frames []decoded }

func (f fileFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	sink.Live(ms)
	for _, d := range f.frames {
		sink.Trades(d.trades)
		for _, c := range d.bins {
			sink.Bin(c)
		}
	}
	sink.Down(ms)
	<-ctx.Done()
	return nil
}

type noREST struct{}

func (noREST) Candles(context.Context, market.Market, int64, int64, func(int64)) ([]market.Candle, error) {
	return nil, fmt.Errorf("no REST in a replay")
}

// TestReplayIntoRunMatchesDirectDecode replays each real recording through
// `candlewire replay` into `candlewire run`, and checks that run stored the
// same 1m candles as the recording's frames decoded and collected directly.
func TestReplayIntoRunMatchesDirectDecode(t *testing.T) {
	dir := realdata.Dir(t)
	exe := loadBinary(t)
	for _, rc := range recordings {
		t.Run(rc.file, func(t *testing.T) {
			path := filepath.Join(dir, rc.file)
			raw := realdata.Received(t, rc.file)
			decode := rc.decoder(raw)
			var frames []decoded
			for _, f := range raw {
				frames = append(frames, decode(f))
			}
			ms := marketsOf(frames)
			if len(ms) == 0 {
				t.Fatal("no markets decoded from the recording")
			}
			want := collectDirect(t, rc.venue, ms, frames)
			got := collectReplay(t, exe, path, rc.venue, rc.wsPath, ms)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("run after replay stored\n%s\nwant (direct decode)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			finals := 0
			for _, w := range want {
				if strings.Contains(w, " reconciled ") {
					finals++
				}
			}
			// Coinbase's recording has no final: every product's last_match is
			// in the first minute, and the session ends 7 s into the second.
			t.Logf("%d markets, %d candles alike, %d final", len(ms), len(want), finals)
		})
	}
}

func marketsOf(frames []decoded) []market.Market {
	seen := map[market.Market]bool{}
	for _, d := range frames {
		for _, t := range d.trades {
			seen[t.Market] = true
		}
		for _, c := range d.bins {
			seen[c.Market] = true
		}
	}
	ms := slices.Collect(func(yield func(market.Market) bool) {
		for m := range seen {
			if !yield(m) {
				return
			}
		}
	})
	slices.SortFunc(ms, func(a, b market.Market) int { return strings.Compare(a.String(), b.String()) })
	return ms
}

// binsOf is what venue's bins carry, as run configures them.
func binsOf(t *testing.T, venue string) candle.Options {
	d, err := registry.Lookup(venue)
	if err != nil {
		t.Fatal(err)
	}
	return d.Bins
}

// collectDirect runs the collector on the decoded frames into memory.
func collectDirect(t *testing.T, venue string, ms []market.Market, frames []decoded) []string {
	st := store.NewMemory(nil)
	c, err := collector.New(collector.Config{Store: st, Venues: []collector.Venue{{Name: venue, Feed: fileFeed{frames}, REST: noREST{},
		Markets: ms, Bins: binsOf(t, venue)}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	c.Run(ctx)
	return stored(t, st, ms)
}

// collectReplay serves the file with `candlewire replay` and collects it
// with `candlewire run`, stopped once the session has ended.
func collectReplay(t *testing.T, exe, path, venue, wsPath string, ms []market.Market) []string {
	rp := exec.Command(exe, "replay", "--speed", "0", "--listen", "127.0.0.1:0", path)
	rp.Env = append(os.Environ(), childEnv+"=1")
	out, _ := rp.StdoutPipe()
	if err := rp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { rp.Process.Kill(); rp.Wait() }() //nolint:errcheck // stopping it
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(strings.TrimPrefix(line, "candlewire replay on "))
	if err != nil || len(f) == 0 {
		t.Fatalf("replay said %q: %v", line, err)
	}
	addr := strings.TrimSuffix(f[0], ":")
	db := filepath.Join(t.TempDir(), "r.db")
	var names []string
	for _, m := range ms {
		names = append(names, m.String())
	}
	p := startExe(t, exe, "run", "--markets", strings.Join(names, ","), "--db", db, "--listen", "127.0.0.1:0",
		"--ws-url", venue+"=ws://"+addr+wsPath, "--rest-url", venue+"=http://"+addr)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.logText(), "end of recording") {
		if time.Now().After(deadline) {
			p.kill(t)
			t.Fatalf("the replayed session did not end within 30 s; run's log:\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop(t)
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return stored(t, st, ms)
}

// stored lists every 1m candle of ms as market, open time, state and values.
func stored(t *testing.T, st store.Store, ms []market.Market) []string {
	var out []string
	for _, m := range ms {
		cs, err := st.Candles(context.Background(), m, market.I1m, 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%s %d %s %s/%s/%s/%s/%s/%s/%d", m, c.OpenTime, c.State, c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote, c.Trades))
		}
	}
	return out
}
