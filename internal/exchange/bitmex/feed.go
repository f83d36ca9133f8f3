package bitmex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// ErrNoEndpoint explains why there is no default BitMEX URL.
var ErrNoEndpoint = errors.New("bitmex: no endpoint configured. BitMEX closed on 2026-09-23 04:00 UTC and its servers are gone; " +
	"point the bitmex venue at a BitMEX-compatible endpoint with ws_url and rest_url in the config file " +
	"(for example a `candlewire sim` at ws://127.0.0.1:9100/bitmex/realtime, a replay, or another candlewire), or use --sim")

// DefaultConnectsPerHour is the connect budget per rolling hour: BitMEX's
// historical 20-per-hour limit, the safest of the limits it published.
const DefaultConnectsPerHour = 20

// Config configures the BitMEX-protocol feed. Zero fields take defaults.
type Config struct {
	WSURL     string        // required, e.g. wss://host/realtime
	URLTopics int           // topics subscribed in the URL, the rest with op:subscribe; default 20
	Idle      time.Duration // silence before sending "ping"; default 5s
	PongWait  time.Duration // wait for "pong" (or any frame) after a ping; default 5s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config
}

// Feed collects trade and tradeBin1m tables for a set of markets.
type Feed struct{ cfg Config }

// NewFeed checks cfg and applies defaults to a copy.
func NewFeed(cfg Config) (*Feed, error) {
	if cfg.WSURL == "" {
		return nil, ErrNoEndpoint
	}
	if cfg.URLTopics <= 0 {
		cfg.URLTopics = 20
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 5 * time.Second
	}
	if cfg.PongWait <= 0 {
		cfg.PongWait = 5 * time.Second
	}
	cfg.Config = cfg.Config.ForVenue(Venue, DefaultConnectsPerHour, time.Hour)
	return &Feed{cfg: cfg}, nil
}

// Topics returns the subscriptions for a market: its 1-minute bins, and its
// trades (which build the candle at once and keep the socket busy).
func Topics(m market.Market) []string {
	return []string{"tradeBin1m:" + m.Symbol, "trade:" + m.Symbol}
}

// Run collects until ctx ends.
func (f *Feed) Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error {
	var topics []string
	for _, m := range markets {
		topics = append(topics, Topics(m)...)
	}
	inURL := topics[:min(len(topics), f.cfg.URLTopics)]
	sep := "?"
	if strings.Contains(f.cfg.WSURL, "?") {
		sep = "&"
	}
	url := f.cfg.WSURL + sep + "subscribe=" + strings.Join(inURL, ",")
	s := &session{feed: f, markets: markets, later: topics[len(inURL):], sink: sink}
	return upstream.Run(ctx, f.cfg.Config, url, s.run)
}

type session struct {
	feed    *Feed
	markets []market.Market
	later   []string
	sink    upstream.Sink
	live    bool
	dec     Decoder // used by the session's reading goroutine only
}

func (s *session) run(ctx context.Context, ws *upstream.Conn) error {
	s.live = false
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	defer s.sink.Down(s.markets)
	for i := 0; i < len(s.later); i += 10 {
		if err := ws.Send(ctx, "subscribe", map[string]any{"op": "subscribe", "args": s.later[i:min(i+10, len(s.later))]}); err != nil {
			return r.Explain(err, time.Second, s.handle)
		}
	}
	return upstream.TextPing(ctx, ws, r, s.feed.cfg.Idle, s.feed.cfg.PongWait, s.handle)
}

func (s *session) handle(data []byte) error {
	s.feed.cfg.Metrics.Messages.WithLabelValues(Venue).Inc()
	e, err := s.dec.Decode(data)
	if err != nil {
		s.sink.Skip(Venue, "decode", err)
		return nil
	}
	if e.Slow != "" {
		s.feed.cfg.SlowFrame(e.Slow, data)
	}
	switch e.Kind {
	case KindWelcome:
		log := s.feed.cfg.Logger
		if e.Welcome.Limit != nil {
			log = log.With("connects_remaining", e.Welcome.Limit.Remaining)
		}
		log.Info("welcome", "venue", Venue, "version", e.Welcome.Version)
		s.goLive()
	case KindAck:
		if !e.Ack.Success {
			s.sink.Skip(Venue, "subscribe-refused", fmt.Errorf("subscription refused: %s", data))
		}
	case KindError:
		if e.Err.Status == http.StatusTooManyRequests {
			return &upstream.RetryAfterError{After: max(e.Err.RetryAfter, time.Second), Err: e.Err}
		}
		s.sink.Skip(Venue, "error-reply", e.Err)
	case KindTable:
		s.goLive()
		s.table(e)
	}
	return nil
}

func (s *session) goLive() {
	if !s.live {
		s.live = true
		s.sink.Live(s.markets)
	}
}

func (s *session) table(e Event) {
	if e.Skipped > 0 {
		s.sink.Skip(Venue, "row", fmt.Errorf("%d %s rows skipped (other pool, index or unreadable)", e.Skipped, e.Table))
	}
	switch {
	case e.Table == "trade" && (e.Action == "insert" || e.Action == "update"):
		// A partial is a snapshot of the last trade, which may already have
		// been applied before a reconnect; the bin reconciles it anyway.
		s.sink.Trades(e.Trades)
	case e.Table == "tradeBin1m" && e.Action != "delete":
		for _, c := range e.Bins {
			s.sink.Bin(c)
		}
	}
}
