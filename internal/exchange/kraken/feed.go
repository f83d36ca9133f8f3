package kraken

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Connection limits candlewire keeps to (Kraken's own are not published
// as numbers; UNCONFIRMED in docs/protocols.md).
const (
	ConnectsPerWindow = 150
	ConnectWindow     = 10 * time.Minute
	DefaultPerConn    = 100 // symbols per connection
)

// DefaultWSURL is Kraken's public WebSocket v2.
const DefaultWSURL = "wss://ws.kraken.com/v2"

// Config configures the Kraken feed. Zero fields take the defaults.
type Config struct {
	WSURL   string
	PerConn int           // symbols per connection; default DefaultPerConn
	Silence time.Duration // no frame for this long (Kraken sends a heartbeat a second) means dead; default 10s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config
}

// Feed collects ohlc (interval 1) and trade for a set of pairs, both on
// one connection per DefaultPerConn pairs.
type Feed struct{ cfg Config }

// NewFeed applies defaults to a copy of cfg.
func NewFeed(cfg Config) *Feed {
	cfg.WSURL = cmp.Or(cfg.WSURL, DefaultWSURL)
	cfg.PerConn = cmp.Or(cfg.PerConn, DefaultPerConn)
	cfg.Silence = cmp.Or(cfg.Silence, 10*time.Second)
	cfg.Config = cfg.Config.ForVenue(Venue, ConnectsPerWindow, ConnectWindow)
	return &Feed{cfg: cfg}
}

// Run collects until ctx ends.
func (f *Feed) Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error {
	upstream.Shard(ctx, markets, f.cfg.PerConn, func(ctx context.Context, group []market.Market) {
		s := &session{feed: f, markets: group, sink: sink, quiet: quiet{}}
		upstream.Run(ctx, f.cfg.Config, f.cfg.WSURL, s.run) //nolint:errcheck // only fails on a missing budget, set in NewFeed
	})
	return nil
}

// session is one connection's state across its redials.
type session struct {
	feed    *Feed
	markets []market.Market
	sink    upstream.Sink
	replies int
	windows windows
	quiet   quiet   // across connections: trade ids are the book's
	dec     Decoder // used by the session's reading goroutine only
}

func (s *session) run(ctx context.Context, ws *upstream.Conn) error {
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	defer s.sink.Down(s.markets)
	s.replies, s.windows = 0, windows{} // a window is final only by what this connection saw
	handle := func(b []byte) error { s.handle(b); return nil }
	if err := s.subscribe(ctx, ws); err != nil {
		return r.Explain(err, time.Second, handle)
	}
	return upstream.Watch(ctx, r, s.feed.cfg.Silence/2, s.feed.cfg.Silence, nil, handle)
}

// subscribe asks for ohlc (with its snapshot of recent windows) and trade.
func (s *session) subscribe(ctx context.Context, ws *upstream.Conn) error {
	pairs := make([]string, len(s.markets))
	for i, m := range s.markets {
		pairs[i] = Pair(m)
	}
	for i, params := range []map[string]any{
		{"channel": "ohlc", "symbol": pairs, "interval": 1, "snapshot": true},
		{"channel": "trade", "symbol": pairs, "snapshot": false},
	} {
		if err := ws.Send(ctx, "subscribe", map[string]any{"method": "subscribe", "params": params, "req_id": i + 1}); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) handle(data []byte) {
	s.feed.cfg.Metrics.Messages.WithLabelValues(Venue).Inc()
	e, err := s.dec.Decode(data)
	if err != nil {
		s.sink.Skip(Venue, "decode", err)
		return
	}
	if e.Slow != "" {
		s.feed.cfg.SlowFrame(e.Slow, data)
	}
	switch e.Kind {
	case KindReply:
		if !e.OK {
			s.sink.Skip(Venue, "subscribe-refused", fmt.Errorf("subscribe %s refused: %s", e.Symbol, e.Msg))
		}
		// one reply per pair and channel; live once all are in
		if s.replies++; s.replies == 2*len(s.markets) {
			s.sink.Live(s.markets)
		}
	case KindOHLC:
		for _, c := range e.Candles {
			for _, out := range s.windows.apply(c) {
				s.sink.Bin(out)
			}
		}
	case KindTrades:
		for i, t := range e.Trades {
			s.sink.Trades(e.Trades[i : i+1 : i+1]) // the quiet minutes a trade closes come after it
			for _, c := range s.quiet.apply(t) {
				s.sink.Bin(c)
			}
		}
	}
}

// windows keeps the newest ohlc row of each market on one connection.
type windows map[market.Market]market.Candle

// apply takes one row and returns what it settles: a row of a later
// window makes the last row of the earlier one final; a row older than the
// newest (a snapshot's completed windows) is final itself.
func (w windows) apply(c market.Candle) []market.Candle {
	prev, ok := w[c.Market]
	switch {
	case ok && c.OpenTime < prev.OpenTime:
		c.State = market.Reconciled
		return []market.Candle{c}
	case ok && c.OpenTime > prev.OpenTime:
		w[c.Market] = c
		prev.State = market.Reconciled
		return []market.Candle{prev, c}
	}
	w[c.Market] = c
	return []market.Candle{c}
}

// quiet finds the windows without trades. Kraken sends no ohlc row for a
// window without trades, but trade_id is consecutive per book: when a
// trade follows the previous one's id and windows lie between their two,
// those windows had no trade and are final, flat at the previous price,
// as Kraken's REST OHLC has them.
type quiet map[market.Market]lastTrade

type lastTrade struct {
	id, window int64
	price      market.Decimal
}

func (q quiet) apply(t market.Trade) []market.Candle {
	if t.LastSeq == 0 {
		return nil // v1 trades carry no id
	}
	w := market.I1m.Truncate(t.Time)
	prev, ok := q[t.Market]
	if ok && t.LastSeq <= prev.id {
		return nil
	}
	q[t.Market] = lastTrade{id: t.LastSeq, window: w, price: t.Price}
	if !ok || t.LastSeq != prev.id+1 {
		return nil
	}
	var out []market.Candle
	for e := prev.window + market.I1m.Millis(); e < w; e += market.I1m.Millis() {
		out = append(out, market.Flat(t.Market, e, prev.price, market.SourceTrades))
	}
	return out
}
