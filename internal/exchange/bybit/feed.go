package bybit

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Bybit's documented WebSocket limits.
const (
	ConnectsPerWindow = 500 // connections per 5 minutes per IP
	ConnectWindow     = 5 * time.Minute
	argsPerOp         = 10  // spot: at most 10 args per subscribe message
	DefaultPerConn    = 100 // symbols per connection (two topics each), far under 21,000 characters of args
)

// DefaultWSURL is Bybit's public spot WebSocket.
const DefaultWSURL = "wss://stream.bybit.com/v5/public/spot"

// Config configures the Bybit feed. Zero fields take the defaults.
type Config struct {
	WSURL     string        // default DefaultWSURL
	PerConn   int           // symbols per connection; default DefaultPerConn
	PingEvery time.Duration // the op ping; default 20s, as Bybit recommends
	Silence   time.Duration // no frame at all for this long means dead; default 30s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config
}

// Feed collects kline.1 and publicTrade for a set of spot symbols, both
// topics of a symbol on one connection.
type Feed struct{ cfg Config }

// NewFeed applies defaults to a copy of cfg.
func NewFeed(cfg Config) *Feed {
	cfg.WSURL = cmp.Or(cfg.WSURL, DefaultWSURL)
	if cfg.PerConn <= 0 {
		cfg.PerConn = DefaultPerConn
	}
	if cfg.PingEvery <= 0 {
		cfg.PingEvery = 20 * time.Second
	}
	if cfg.Silence <= 0 {
		cfg.Silence = 30 * time.Second
	}
	cfg.Config = cfg.Config.ForVenue(Venue, ConnectsPerWindow, ConnectWindow)
	return &Feed{cfg: cfg}
}

// Topics returns the topics of a market.
func Topics(m market.Market) []string { return []string{TopicKline + m.Symbol, TopicTrade + m.Symbol} }

// Run collects until ctx ends.
func (f *Feed) Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error {
	upstream.Shard(ctx, markets, f.cfg.PerConn, func(ctx context.Context, group []market.Market) {
		s := &session{feed: f, markets: group, sink: sink}
		upstream.Run(ctx, f.cfg.Config, f.cfg.WSURL, s.run) //nolint:errcheck // only fails on a missing budget, set in NewFeed
	})
	return nil
}

// session is one connection's state across its redials.
type session struct {
	feed    *Feed
	markets []market.Market
	sink    upstream.Sink
	replies int // subscribe replies since the connection opened
	ops     int // subscribe messages sent on it
	nextID  int64
	dec     Decoder // used by the session's reading goroutine only
}

func (s *session) run(ctx context.Context, ws *upstream.Conn) error {
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	defer s.sink.Down(s.markets)
	s.replies = 0
	handle := func(b []byte) error { s.handle(b); return nil }
	if err := s.subscribe(ctx, ws); err != nil {
		return r.Explain(err, time.Second, handle)
	}
	ping := func() error { return s.send(ctx, ws, "ping", nil) }
	return upstream.Watch(ctx, r, s.feed.cfg.PingEvery, s.feed.cfg.Silence, ping, handle)
}

// subscribe sends both topics of every market, argsPerOp per message.
func (s *session) subscribe(ctx context.Context, ws *upstream.Conn) error {
	var topics []string
	for _, m := range s.markets {
		topics = append(topics, Topics(m)...)
	}
	s.ops = 0
	for i := 0; i < len(topics); i += argsPerOp {
		if err := s.send(ctx, ws, "subscribe", topics[i:min(i+argsPerOp, len(topics))]); err != nil {
			return err
		}
		s.ops++
	}
	return nil
}

func (s *session) send(ctx context.Context, ws *upstream.Conn, op string, args []string) error {
	s.nextID++
	msg := map[string]any{"req_id": strconv.FormatInt(s.nextID, 10), "op": op}
	if args != nil {
		msg["args"] = args
	}
	return ws.Send(ctx, op, msg)
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
			s.sink.Skip(Venue, "subscribe-refused", fmt.Errorf("%s refused: %s", e.Op, strings.TrimSpace(e.Msg)))
		}
		if e.Op == "subscribe" {
			if s.replies++; s.replies == s.ops {
				s.sink.Live(s.markets)
			}
		}
	case KindKline:
		for _, c := range e.Candles {
			s.sink.Bin(c)
		}
	case KindTrades:
		s.sink.Trades(e.Trades)
	}
}
