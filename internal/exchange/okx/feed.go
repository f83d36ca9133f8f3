package okx

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/upstream"
)

// OKX's documented WebSocket limits, and the shares candlewire keeps to.
const (
	ConnectsPerSecond = 3 // connection requests per second per IP
	// ConnectsPerWindow and ConnectWindow are candlewire's own budget: a
	// rolling hour, well inside 3 per second.
	ConnectsPerWindow = 360
	ConnectWindow     = time.Hour
	// OpsPerHour is OKX's limit of subscribe, unsubscribe and login
	// messages per connection per hour.
	OpsPerHour = 480
	// DefaultArgsPerConn is how many instruments one connection carries.
	DefaultArgsPerConn = 100
	// argsPerOp keeps each subscribe message short.
	argsPerOp = 20
)

// DefaultWSURL is OKX's public WebSocket base.
const DefaultWSURL = "wss://ws.okx.com:8443"

// Config configures the OKX feed. Zero fields take the defaults.
type Config struct {
	WSURL       string        // base; candles on WSURL+"/ws/v5/business", trades on WSURL+"/ws/v5/public"
	ArgsPerConn int           // instruments per connection; default DefaultArgsPerConn
	Idle        time.Duration // silence before a text ping; default 20s (OKX cuts at 30s)
	PongWait    time.Duration // wait for the pong; default 10s

	// Config holds the connection settings every venue shares: budget
	// (default: this venue's), backoff, frame limit, HTTP client, logger,
	// metrics and tap. NewFeed sets its Venue.
	upstream.Config
}

// Feed collects candle1m and trades for a set of markets: candles and
// trades live on different endpoints, so each group of markets has two
// connections.
type Feed struct{ cfg Config }

// NewFeed applies defaults to a copy of cfg.
func NewFeed(cfg Config) *Feed {
	if cfg.WSURL == "" {
		cfg.WSURL = DefaultWSURL
	}
	if cfg.ArgsPerConn <= 0 {
		cfg.ArgsPerConn = DefaultArgsPerConn
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 20 * time.Second
	}
	cfg.Idle = min(cfg.Idle, 25*time.Second) // OKX cuts a connection silent for 30 s
	if cfg.PongWait <= 0 {
		cfg.PongWait = 10 * time.Second
	}
	cfg.Config = cfg.Config.ForVenue(Venue, ConnectsPerWindow, ConnectWindow)
	return &Feed{cfg: cfg}
}

// Run collects until ctx ends.
func (f *Feed) Run(ctx context.Context, markets []market.Market, sink upstream.Sink) error {
	upstream.Shard(ctx, markets, f.cfg.ArgsPerConn, func(ctx context.Context, group []market.Market) {
		candles := make(chan struct{})
		go func() { defer close(candles); f.runConn(ctx, ChannelCandles, group, sink) }()
		f.runConn(ctx, ChannelTrades, group, sink)
		<-candles
	})
	return nil
}

func (f *Feed) runConn(ctx context.Context, channel string, markets []market.Market, sink upstream.Sink) {
	path := "/ws/v5/public"
	if channel == ChannelCandles {
		path = "/ws/v5/business"
	}
	s := &session{feed: f, channel: channel, markets: markets, sink: sink,
		ops: rate.NewLimiter(rate.Every(time.Hour/OpsPerHour), OpsPerHour/4)}
	upstream.Run(ctx, f.cfg.Config, strings.TrimRight(f.cfg.WSURL, "/")+path, s.run) //nolint:errcheck // only fails on a missing budget, set in NewFeed
}

// session is one connection's state across its redials.
type session struct {
	feed    *Feed
	channel string
	markets []market.Market
	sink    upstream.Sink
	ops     *rate.Limiter // subscribe messages of this connection, across redials
	replies int           // acks and error events since the connection opened
	dec     Decoder       // used by the session's reading goroutine only
}

func (s *session) run(ctx context.Context, ws *upstream.Conn) error {
	r := upstream.NewReader(ctx, ws)
	defer r.Stop()
	if s.channel == ChannelCandles {
		defer s.sink.Down(s.markets)
	}
	s.replies = 0
	handle := func(b []byte) error { s.handle(b); return nil }
	if err := s.subscribe(ctx, ws); err != nil {
		return r.Explain(err, time.Second, handle)
	}
	return upstream.TextPing(ctx, ws, r, s.feed.cfg.Idle, s.feed.cfg.PongWait, handle)
}

// subscribe sends the channel for every market, argsPerOp per message,
// within OKX's 480 messages per connection per hour.
func (s *session) subscribe(ctx context.Context, ws *upstream.Conn) error {
	for i := 0; i < len(s.markets); i += argsPerOp {
		var args []arg
		for _, m := range s.markets[i:min(i+argsPerOp, len(s.markets))] {
			args = append(args, arg{Channel: s.channel, InstID: m.Symbol})
		}
		if err := s.ops.Wait(ctx); err != nil {
			return err
		}
		if err := ws.Send(ctx, "subscribe", map[string]any{"op": "subscribe", "args": args}); err != nil {
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
	case KindReply, KindError:
		if e.Kind == KindError {
			s.sink.Skip(Venue, "error-event", fmt.Errorf("OKX error %s: %s", e.Code, e.Msg))
		}
		// Live once every instrument of this connection is answered: from
		// here on nothing of them is missed.
		if s.replies++; s.replies == len(s.markets) {
			s.sink.Live(s.markets)
		}
	case KindCandles:
		for _, c := range e.Candles {
			s.sink.Bin(c)
		}
	case KindTrades:
		s.sink.Trades(e.Trades)
	}
}
