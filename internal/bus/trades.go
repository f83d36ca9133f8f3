package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/candlewire/candlewire/internal/market"
)

// tradeRoot is the first token of every live trade's subject. Trades go
// over core NATS, not the stream: like a venue's own trade feed they are
// live only, and a client that was away reads candles, not trades.
const tradeRoot = "trades"

// TradeSubject is the subject of a market's live trades:
// trades.VENUE.SYMBOL, each token escaped (Token).
func TradeSubject(m market.Market) string {
	return tradeRoot + "." + Token(m.Venue) + "." + Token(m.Symbol)
}

// wireTrade is a trade's message; decimals are strings, exact.
type wireTrade struct {
	Venue  string `json:"venue"`
	Symbol string `json:"symbol"`
	Time   int64  `json:"t"`
	Price  string `json:"p"`
	Size   string `json:"s"`
	Quote  string `json:"q"`
	Buy    bool   `json:"buy"`
	First  int64  `json:"f,omitempty"`
	Last   int64  `json:"l,omitempty"`
}

func encodeTrade(t market.Trade) ([]byte, error) {
	return json.Marshal(wireTrade{t.Market.Venue, t.Market.Symbol, t.Time, t.Price.String(), t.Size.String(),
		t.Quote.String(), t.Buy, t.FirstSeq, t.LastSeq})
}

// decodeTrade reads a trade's message, refusing one over MaxMessage.
func decodeTrade(data []byte) (market.Trade, error) {
	if len(data) > MaxMessage {
		return market.Trade{}, fmt.Errorf("not a trade: %d bytes", len(data))
	}
	var w wireTrade
	if err := json.Unmarshal(data, &w); err != nil {
		return market.Trade{}, fmt.Errorf("not a trade: %w", err)
	}
	price, err1 := market.ParseDecimal(w.Price)
	size, err2 := market.ParseDecimal(w.Size)
	quote, err3 := market.ParseDecimal(w.Quote)
	if err := errors.Join(err1, err2, err3); err != nil {
		return market.Trade{}, fmt.Errorf("not a trade: %w", err)
	}
	if w.Venue == "" || w.Symbol == "" || w.Time <= 0 {
		return market.Trade{}, fmt.Errorf("not a trade of a market at a time: %q %q %d", w.Venue, w.Symbol, w.Time)
	}
	return market.Trade{Market: market.Market{Venue: w.Venue, Symbol: w.Symbol}, Time: w.Time, Price: price, Size: size,
		Quote: quote, Buy: w.Buy, FirstSeq: w.First, LastSeq: w.Last}, nil
}

// TradeStats counts a trade publisher's and a trade feed's messages.
type TradeStats struct {
	Published atomic.Int64 // trades published (a publisher's)
	Failed    atomic.Int64 // trades not published: queue full, NATS away, or refused (a publisher's)
	Received  atomic.Int64 // trades handed on (a feed's)
	Bad       atomic.Int64 // messages that were not trades, skipped (a feed's)
	Dropped   atomic.Int64 // trades the client dropped behind a slow feed (a feed's)
}

// tradeQueue bounds the trades waiting to be published.
const tradeQueue = 4096

// TradePublisher publishes the live trades of the markets a collector
// owns (owns), so that each trade is on the bus once although an owner
// and a standby both collect it. PublishTrade only queues; Run publishes.
// A trade is dropped, counted, while the queue is full or NATS is away
// (a stale trade sent late would not be live); a market's owner changing
// may drop or repeat a few around the move, as a venue's own trade feed
// does on a reconnect.
type TradePublisher struct {
	nc    *nats.Conn
	owns  func(market.Market) bool
	q     chan market.Trade
	stats TradeStats
	log   *slog.Logger
}

// NewTradePublisher returns a publisher of the trades owns says are this
// collector's.
func NewTradePublisher(nc *nats.Conn, owns func(market.Market) bool, log *slog.Logger) *TradePublisher {
	return &TradePublisher{nc: nc, owns: owns, q: make(chan market.Trade, tradeQueue), log: log}
}

// PublishTrade implements collector.Trades: it never blocks.
func (p *TradePublisher) PublishTrade(t market.Trade) {
	if !p.owns(t.Market) {
		return
	}
	if !p.nc.IsConnected() {
		p.failed(t, errors.New("NATS is not connected"))
		return
	}
	select {
	case p.q <- t:
	default:
		p.failed(t, errors.New("the publish queue is full"))
	}
}

// Run publishes the queued trades until ctx ends.
func (p *TradePublisher) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-p.q:
			data, err := encodeTrade(t)
			if err == nil {
				err = p.nc.Publish(TradeSubject(t.Market), data)
			}
			if err != nil {
				p.failed(t, err)
				continue
			}
			p.stats.Published.Add(1)
		}
	}
}

func (p *TradePublisher) failed(t market.Trade, err error) {
	if p.stats.Failed.Add(1) == 1 {
		p.log.Warn("a live trade was not published (counted in candlewire_trades_publish_failed_total from now on)",
			"market", t.Market.String(), "err", err)
	}
}

// Stats returns the publisher's counts.
func (p *TradePublisher) Stats() *TradeStats { return &p.stats }

// Trades receives the bus's live trades. PublishTrade must not block.
type Trades interface {
	PublishTrade(t market.Trade)
}

// TradeFeed hands every live trade on the bus to a serving node's trade
// table (bitmexcompat's).
type TradeFeed struct {
	nc    *nats.Conn
	to    Trades
	stats TradeStats
	log   *slog.Logger
}

// NewTradeFeed returns a feed of the bus's trades to to.
func NewTradeFeed(nc *nats.Conn, to Trades, log *slog.Logger) *TradeFeed {
	return &TradeFeed{nc: nc, to: to, log: log}
}

// Stats returns the feed's counts.
func (f *TradeFeed) Stats() *TradeStats { return &f.stats }

// dropped keeps Stats().Dropped up to the messages the client dropped
// behind the subscription (its slow-consumer limit), every second until
// ctx ends.
func (f *TradeFeed) dropped(ctx context.Context, sub *nats.Subscription) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if n, err := sub.Dropped(); err == nil {
			f.stats.Dropped.Store(int64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Run subscribes until ctx ends. The client keeps the subscription across
// reconnects; a subscriber that falls behind loses trades in the client
// (its slow-consumer limit), as a slow client of a venue would.
func (f *TradeFeed) Run(ctx context.Context) error {
	sub, err := f.nc.Subscribe(tradeRoot+".>", func(m *nats.Msg) {
		t, err := decodeTrade(m.Data)
		if err != nil || !strings.HasPrefix(m.Subject, tradeRoot+".") || m.Subject != TradeSubject(t.Market) {
			if f.stats.Bad.Add(1) == 1 {
				f.log.Warn("skipped a bus message that is not a trade of its subject (counted in candlewire_trades_bad_messages_total)",
					"subject", m.Subject, "err", err)
			}
			return
		}
		f.stats.Received.Add(1)
		f.to.PublishTrade(t)
	})
	if err != nil {
		return fmt.Errorf("subscribe to the bus's live trades: %w", err)
	}
	f.dropped(ctx, sub)
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		f.log.Debug("unsubscribe from the live trades", "err", err)
	}
	return nil
}
