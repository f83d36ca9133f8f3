package binance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// Documented Binance limits.
const (
	MaxStreamsPerConn = 1024
	ConnectsPerWindow = 300
	ConnectWindow     = 5 * time.Minute
	// maxControlPerSecond stays under the 5 incoming messages/s limit, with
	// room for the pongs the WebSocket library sends.
	maxControlPerSecond = 4
)

// Config configures the Binance feed. Zero fields take the documented
// defaults.
type Config struct {
	WSURL      string        // base, default wss://stream.binance.com:9443
	URLStreams int           // streams subscribed in the URL; the rest via SUBSCRIBE; default 200
	Batch      int           // streams per SUBSCRIBE message; default 200
	MaxStreams int           // streams per connection; default and maximum 1024
	Silence    time.Duration // no frame and no ping for this long means dead; default 60s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config // and MaxLifetime: redial before the 24h cut; default 23h30m
}

// DefaultWSURL is Binance's public market-data WebSocket base.
const DefaultWSURL = "wss://stream.binance.com:9443"

// Feed collects kline_1m and aggTrade streams for a set of markets.
type Feed struct{ cfg Config }

// NewFeed applies defaults to a copy of cfg.
func NewFeed(cfg Config) *Feed {
	if cfg.WSURL == "" {
		cfg.WSURL = DefaultWSURL
	}
	if cfg.URLStreams <= 0 {
		cfg.URLStreams = 200
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.MaxStreams <= 0 || cfg.MaxStreams > MaxStreamsPerConn {
		cfg.MaxStreams = MaxStreamsPerConn
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = 23*time.Hour + 30*time.Minute
	}
	if cfg.Silence <= 0 {
		cfg.Silence = 60 * time.Second
	}
	cfg.Config = cfg.Config.ForVenue(Venue, ConnectsPerWindow, ConnectWindow)
	return &Feed{cfg: cfg}
}

// Streams returns the stream names for a market.
func Streams(m market.Market) []string {
	s := strings.ToLower(m.Symbol)
	return []string{s + "@kline_1m", s + "@aggTrade"}
}

// Run collects until ctx ends, one connection per MaxStreams streams.
func (f *Feed) Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error {
	upstream.Shard(ctx, markets, f.cfg.MaxStreams/2, func(ctx context.Context, group []market.Market) { f.runConn(ctx, group, sink) })
	return nil
}

func (f *Feed) runConn(ctx context.Context, markets []market.Market, sink upstream.Sink) {
	var streams []string
	for _, m := range markets {
		streams = append(streams, Streams(m)...)
	}
	inURL := streams[:min(len(streams), f.cfg.URLStreams)]
	c := &conn{feed: f, markets: markets, later: streams[len(inURL):], sink: sink}
	url := strings.TrimRight(f.cfg.WSURL, "/") + "/stream?streams=" + strings.Join(inURL, "/")
	upstream.Run(ctx, f.cfg.Config, url, c.session) //nolint:errcheck // only fails on a missing budget, set in NewFeed
}

// conn is the state of one connection's sessions.
type conn struct {
	feed    *Feed
	markets []market.Market
	later   []string // streams subscribed with SUBSCRIBE after connecting
	sink    upstream.Sink
	nextID  int64
	dec     Decoder         // used by the session's reading goroutine only
	one     [1]market.Trade // the trade a frame carries, handed to the sink without allocating
}

// session reads until the connection fails or hears nothing, not even
// Binance's pings, for the silence timeout.
func (c *conn) session(ctx context.Context, ws *upstream.Conn) error {
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	defer c.sink.Down(c.markets)
	if err := c.subscribe(ctx, ws); err != nil {
		return r.Explain(err, time.Second, c.handle)
	}
	c.sink.Live(c.markets)
	silence := c.feed.cfg.Silence
	return upstream.Watch(ctx, r, silence/4, silence, nil, c.handle)
}

// subscribe sends SUBSCRIBE for the streams not in the URL, at most
// maxControlPerSecond messages per second.
func (c *conn) subscribe(ctx context.Context, ws *upstream.Conn) error {
	lim := rate.NewLimiter(maxControlPerSecond, 1)
	batch := c.feed.cfg.Batch
	for i := 0; i < len(c.later); i += batch {
		if err := lim.Wait(ctx); err != nil {
			return err
		}
		c.nextID++
		if err := ws.Send(ctx, "SUBSCRIBE", map[string]any{"method": "SUBSCRIBE", "params": c.later[i:min(i+batch, len(c.later))], "id": c.nextID}); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) handle(data []byte) error {
	m := c.feed.cfg.Metrics
	m.Messages.WithLabelValues(Venue).Inc()
	e, err := c.dec.Decode(data)
	if err != nil {
		c.sink.Skip(Venue, "decode", err)
		return nil
	}
	if e.Slow != "" {
		c.feed.cfg.SlowFrame(e.Slow, data)
	}
	switch e.Kind {
	case KindTrade:
		c.one[0] = e.Trade
		c.sink.Trades(c.one[:])
	case KindKline:
		c.sink.Bin(e.Candle)
	case KindShutdown:
		return fmt.Errorf("serverShutdown event: %w", upstream.ErrRedial)
	}
	return nil
}
