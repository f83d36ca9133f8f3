package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candlewire/candlewire/internal/collector"
	"github.com/candlewire/candlewire/internal/config"
	"github.com/candlewire/candlewire/internal/exchange"
	"github.com/candlewire/candlewire/internal/exchange/exchangetest"
	"github.com/candlewire/candlewire/internal/instrument"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/sim/oracle"
	"github.com/candlewire/candlewire/internal/sqlite"
	"github.com/candlewire/candlewire/internal/upstream"
)

// seventh is a throwaway seventh venue, built from the registry's
// interface alone: a driver, a feed, a REST client and a simulator
// front-end, in this one file. Its wire protocol is as small as a venue's
// can be: its trades are the simulator's trade log as JSON lines, and its
// final 1-minute bins are the oracle's "o/h/l/c/v/q/n" lines. The feed
// polls both over HTTP.
var seventh = exchange.Driver{
	Name: "seventh", Connects: 100, ConnectWindow: time.Minute, RESTRate: 10, RESTBurst: 10,
	Grace: 10 * time.Second, Silence: 10 * time.Second,
	NewFeed: func(ep config.Venue, link upstream.Config) (collector.Feed, error) {
		return &seventhFeed{base: "http" + strings.TrimPrefix(ep.WSURL, "ws")}, nil
	},
	NewREST: func(base string, h *upstream.HTTP) (exchange.REST, error) {
		return &seventhREST{base: base, h: h}, nil
	},
	Example: func(ep config.Venue, symbol string) string { return ep.WSURL + "/trades?symbol=" + symbol },
	Sim: exchange.Sim{Mount: mountSeventh, Symbol: "ABC-USD",
		Spec:        seventhSpec,
		BenchSymbol: func(i int) string { return fmt.Sprintf("C%d-USD", i) }},
}

func seventhSpec(string) sim.Spec {
	return sim.Spec{PricePrec: 2, Tick: 1, Start: 10_000, SizePrec: 3, Lot: 1}
}

// mountSeventh serves the venue's trades after a sequence number and its
// final bins in a window, at prefix.
func mountSeventh(s *sim.Server, prefix string) {
	in := func(r *http.Request) *sim.Instrument {
		sym := r.URL.Query().Get("symbol")
		return s.Instrument("seventh", sym, seventhSpec(sym))
	}
	s.Handle("GET "+prefix+"/trades", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		inst, now := in(r), s.Clock.Now()
		inst.Advance(now)
		writeTrades(w, inst, inst.After(after, now))
	}))
	s.Handle("GET "+prefix+"/bins", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		inst, now := in(r), s.Clock.Now()
		to = min(to, market.I1m.Truncate(now)) // closed minutes only
		inst.Advance(now)
		var log strings.Builder
		writeTrades(&log, inst, inst.Trades(0, to))
		bins, err := oracle.Build(strings.NewReader(log.String()), oracle.Convention{}, from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for t := from; t < to; t += 60_000 {
			if b, ok := bins[t]; ok {
				fmt.Fprintf(w, "%d %s\n", t, b)
			}
		}
	}))
}

func writeTrades(w interface{ Write([]byte) (int, error) }, in *sim.Instrument, ts []sim.Trade) {
	enc := json.NewEncoder(w)
	for _, t := range ts {
		enc.Encode(sim.TradeJSON{Venue: in.Venue, Symbol: in.Symbol, Seq: t.Seq, Time: t.Time, Price: in.Price(t.Price).String(), //nolint:errcheck // in memory or to a client
			Size: in.Size(t.Size).String(), Quote: in.Quote(t).String(), First: t.First, Last: t.Last, Buy: t.Buy})
	}
}

// seventhFeed polls the venue's trades and final bins every 50 ms.
type seventhFeed struct{ base string }

func (f *seventhFeed) Run(ctx context.Context, ms []market.Market, sink upstream.Sink) error {
	seq, bin := map[market.Market]int64{}, map[market.Market]int64{}
	for first := true; ; first = false {
		for _, m := range ms {
			if err := f.poll(ctx, m, sink, seq, bin); err != nil && ctx.Err() == nil {
				sink.Skip("seventh", "poll", err)
			}
		}
		if first {
			sink.Live(ms)
		}
		if err := upstream.Sleep(ctx, 50*time.Millisecond); err != nil {
			return nil
		}
	}
}

func (f *seventhFeed) poll(ctx context.Context, m market.Market, sink upstream.Sink, seq, bin map[market.Market]int64) error {
	err := getLines(ctx, f.base+"/trades?"+url.Values{"symbol": {m.Symbol}, "after": {fmt.Sprint(seq[m])}}.Encode(), func(line string) error {
		var t sim.TradeJSON
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			return err
		}
		seq[m], bin[m] = t.Seq, cmp.Or(bin[m], market.I1m.Truncate(t.Time))
		sink.Trades([]market.Trade{{Market: m, Time: t.Time, Price: market.MustDecimal(t.Price), Size: market.MustDecimal(t.Size),
			Quote: market.MustDecimal(t.Quote), Buy: t.Buy, FirstSeq: t.Seq, LastSeq: t.Seq}})
		return nil
	})
	if err != nil || bin[m] == 0 {
		return err
	}
	bins, err := seventhBins(ctx, f.base, m, bin[m], 1<<62, market.SourceBin)
	for _, c := range bins {
		sink.Bin(c)
		bin[m] = c.OpenTime + 60_000
	}
	return err
}

// seventhREST reads the venue's final bins and lists its one instrument.
type seventhREST struct {
	base string
	h    *upstream.HTTP
}

func (r *seventhREST) Candles(ctx context.Context, m market.Market, from, to int64, _ func(int64)) ([]market.Candle, error) {
	return seventhBins(ctx, r.base, m, from, to, market.SourceREST)
}

func (r *seventhREST) Instruments(context.Context) (instrument.List, error) {
	in, err := instrument.New(market.Market{Venue: "seventh", Symbol: "ABC-USD"}, "ABC", "USD", "0.01", "0.001", true)
	return instrument.List{in}, err
}

// seventhBins reads the final bins of m in [from, to).
func seventhBins(ctx context.Context, base string, m market.Market, from, to int64, src market.Source) ([]market.Candle, error) {
	var out []market.Candle
	q := url.Values{"symbol": {m.Symbol}, "from": {fmt.Sprint(from)}, "to": {fmt.Sprint(to)}}
	err := getLines(ctx, base+"/bins?"+q.Encode(), func(line string) error {
		t, brief, _ := strings.Cut(line, " ")
		f := strings.Split(brief, "/")
		open, err := strconv.ParseInt(t, 10, 64)
		if err != nil || len(f) != 7 {
			return fmt.Errorf("bin line %q", line)
		}
		n, _ := strconv.ParseInt(f[6], 10, 64)
		out = append(out, market.Candle{Market: m, Interval: market.I1m, OpenTime: open, Open: market.MustDecimal(f[0]),
			High: market.MustDecimal(f[1]), Low: market.MustDecimal(f[2]), Close: market.MustDecimal(f[3]), Volume: market.MustDecimal(f[4]),
			Quote: market.MustDecimal(f[5]), Trades: n, State: market.Reconciled, Source: src})
		return nil
	})
	return out, err
}

// getLines GETs u and hands each line of the answer to line.
func getLines(ctx context.Context, u string, line func(string) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if err := line(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// seventhEnv makes the child candlewire register the seventh venue: the
// program built with one more registry line.
const seventhEnv = "CANDLEWIRE_SEVENTH_VENUE"

// TestSeventhVenue: a throwaway seventh venue (this file) is a driver and
// one registry line. `run` built with it collects it like any venue (its
// flags, instrument list, feed, finals and repairs all come from the
// registry): every minute is stored once, final and exact, and
// /v1/status lists the market.
func TestSeventhVenue(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end session")
	}
	s, ep, base := exchangetest.Sim(t, sim.Config{Seed: 7, Speed: 60}, seventh)
	t.Setenv(seventhEnv, "1")
	db := filepath.Join(t.TempDir(), "seventh.db")
	m := seventh.Demo()
	p := start(t, "run", "--markets", m.String(), "--db", db, "--listen", "127.0.0.1:0", "--log", "debug",
		"--ws-url", "seventh="+ep.WSURL, "--rest-url", "seventh="+ep.RESTURL)
	defer keepLog(t, "seventh", p)
	waitSubscribed(t, p, []exchange.Driver{seventh})
	begin := market.I1m.Truncate(s.Clock.Now()) + time.Minute.Milliseconds()
	end := begin + (4 * time.Minute).Milliseconds()
	waitSim(s, end+2*time.Minute.Milliseconds()) // the last finals are due
	waitRepaired(t, db, m, begin, end, time.Minute)
	resp, err := http.Get("http://" + p.addr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"market":"seventh:ABC-USD"`) {
		t.Errorf("/v1/status does not list the seventh venue's market: %s", body)
	}
	p.stop(t)
	st, err := sqlite.OpenShared(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkCandles(t, st, base, seventh, begin, end)
}
