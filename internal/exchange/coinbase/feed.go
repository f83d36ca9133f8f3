package coinbase

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Connection limits candlewire keeps to. Coinbase documents 8 requests a
// second per IP (bursts of 20) and 100 client messages a second, and no
// cap of products per connection; these stay far inside them.
const (
	ConnectsPerWindow = 150
	ConnectWindow     = 10 * time.Minute
	DefaultPerConn    = 100 // products per connection: one subscribe message each way
)

// DefaultWSURL is the Coinbase Exchange public feed.
const DefaultWSURL = "wss://ws-feed.exchange.coinbase.com"

// Config configures the Coinbase feed. Zero fields take the defaults.
type Config struct {
	WSURL   string
	PerConn int           // products per connection; default DefaultPerConn
	Silence time.Duration // no byte for this long (a heartbeat comes every second) means dead; default 10s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config
}

// Feed collects the matches and heartbeat channels of a set of products
// and builds their 1-minute candles (see the package doc).
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
		s := &session{feed: f, markets: group, sink: sink, tapes: NewTapes(group), refused: map[market.Market]bool{}}
		upstream.Run(ctx, f.cfg.Config, f.cfg.WSURL, s.run) //nolint:errcheck // only fails on a missing budget, set in NewFeed
	})
	return nil
}

// session is one connection's state across its redials. Its tapes outlive
// each connection: trade ids carry continuity across a reconnect.
type session struct {
	feed    *Feed
	markets []market.Market
	sink    upstream.Sink
	tapes   *Tapes
	live    bool // this connection's subscribe was confirmed
	dec     Decoder
	one     [1]market.Trade // the trade a frame carries, handed to the sink without allocating
	// refused are products Coinbase said are not valid; it refuses a whole
	// subscribe for one, so they are left out and the rest subscribed again.
	refused map[market.Market]bool
	resend  bool // subscribe again, without the refused
}

func (s *session) run(ctx context.Context, ws *upstream.Conn) error {
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	defer s.sink.Down(s.markets)
	s.live, s.resend = false, false
	if err := s.subscribe(ctx, ws); err != nil {
		return r.Explain(err, time.Second, func(b []byte) error { s.handle(b); return nil })
	}
	return upstream.Watch(ctx, r, s.feed.cfg.Silence/4, s.feed.cfg.Silence, nil, func(b []byte) error {
		s.handle(b)
		if !s.resend {
			return nil
		}
		s.resend = false
		return s.subscribe(ctx, ws)
	})
}

// subscribe asks for matches and heartbeat of every product in one
// message, within Coinbase's 5 s after connecting.
func (s *session) subscribe(ctx context.Context, ws *upstream.Conn) error {
	ids := make([]string, 0, len(s.markets))
	for _, m := range s.wanted() {
		ids = append(ids, m.Symbol)
	}
	if len(ids) == 0 {
		<-ctx.Done() // every product was refused: nothing to collect here
		return context.Cause(ctx)
	}
	return ws.Send(ctx, "subscribe", map[string]any{"type": "subscribe", "product_ids": ids, "channels": []string{"matches", "heartbeat"}})
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
	case KindSubscriptions:
		if !s.live && s.covers(e.Subscribed) {
			s.live = true
			s.sink.Live(s.wanted())
		}
	case KindError:
		if s.tapes.Has(e.Market) && !s.refused[e.Market] {
			s.refused[e.Market], s.resend = true, true
			s.sink.Skip(Venue, "subscribe-refused", fmt.Errorf("%s: %s; subscribing the others without it", e.Market, e.Msg))
			return
		}
		s.sink.Skip(Venue, "venue-error", errors.New(e.Msg))
	case KindMatch, KindLastMatch, KindHeartbeat:
		s.apply(e)
	}
}

// wanted are the connection's markets that Coinbase did not refuse.
func (s *session) wanted() []market.Market {
	out := make([]market.Market, 0, len(s.markets))
	for _, m := range s.markets {
		if !s.refused[m] {
			out = append(out, m)
		}
	}
	return out
}

// covers reports whether every wanted product of the connection is
// subscribed.
func (s *session) covers(ids []string) bool {
	for _, m := range s.wanted() {
		if !slices.Contains(ids, m.Symbol) {
			return false
		}
	}
	return true
}

// apply runs a match, last_match or heartbeat through its product's tape,
// delivering the trade (if new) and then the finals it settled.
func (s *session) apply(e Event) {
	trade, finals, ok := s.tapes.Apply(e)
	if !ok {
		s.sink.Skip(Venue, "unconfigured-market", fmt.Errorf("%s is not subscribed on this connection", e.Market))
		return
	}
	if trade {
		s.one[0] = e.Trade
		s.sink.Trades(s.one[:])
	}
	for _, c := range finals {
		s.sink.Bin(c)
	}
}
