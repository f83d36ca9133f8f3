package bitmexcompat

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/wsconn"
)

// binTables are BitMEX's bin tables and their widths.
var binTables = map[string]market.Interval{"tradeBin1m": market.I1m, "tradeBin5m": market.I5m, "tradeBin1h": market.I1h, "tradeBin1d": market.I1d}

// Config configures the endpoint. Store and Hub are required.
type Config struct {
	Store store.Candles
	Hub   *hub.Hub
	// Markets are the collected markets; each gets a BitMEX-style alias
	// (BTC→XBT, USD or USDT quote → USD: binance:BTCUSDT is XBTUSD), the
	// first market of a name winning.
	Markets []market.Market
	// Aliases name more BitMEX symbols, or override the derived ones.
	Aliases map[string]market.Market
	// Origins are the WebSocket Origin patterns allowed besides the
	// server's own host.
	Origins []string
	// Admit, when set, admits each /realtime connection, which releases
	// it when it ends; ok false is answered 429. api.API.Admit counts them
	// against the API's per-IP limit (serve.max_conns_per_ip).
	Admit func(r *http.Request) (release func(), ok bool)
}

// Server serves the BitMEX-compatible routes.
type Server struct {
	cfg      Config
	aliases  map[string]market.Market
	trades   tradeFanout
	recent   tradeWindow // for GET /api/v1/trade
	upgrader *wsconn.Upgrader
}

// New returns the endpoint.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, aliases: map[string]market.Market{},
		upgrader: wsconn.NewUpgrader(wsconn.Config{MaxMessage: maxMessage, Origins: cfg.Origins})}
	for _, m := range cfg.Markets {
		if a := Alias(m); a != "" && s.aliases[a] == (market.Market{}) {
			s.aliases[a] = m
		}
	}
	for a, m := range cfg.Aliases {
		s.aliases[strings.ToUpper(a)] = m
	}
	s.trades.subs = map[market.Market]map[*tradeSub]struct{}{}
	return s
}

// SetAdmit sets Config.Admit, for a server built before the API whose
// limit it shares; call it before Register.
func (s *Server) SetAdmit(admit func(r *http.Request) (release func(), ok bool)) { s.cfg.Admit = admit }

// Alias is the BitMEX-style symbol of a USD or USDT quoted spot market
// (binance:BTCUSDT and okx:BTC-USDT → XBTUSD, binance:ETHUSDT → ETHUSD);
// "" for others.
func Alias(m market.Market) string {
	sym := strings.ToUpper(m.Symbol)
	for _, q := range []string{"USDT", "USD"} {
		if base, ok := strings.CutSuffix(sym, q); ok && base != "" {
			base = strings.TrimSuffix(base, "-")
			if base == "" || strings.Contains(base, "-") {
				return ""
			}
			if base == "BTC" {
				base = "XBT"
			}
			return base + "USD"
		}
	}
	return ""
}

// Symbols lists the served BitMEX symbols and their markets, for logs.
func (s *Server) Symbols() []string {
	var out []string
	for a, m := range s.aliases {
		out = append(out, a+"="+m.String())
	}
	slices.Sort(out)
	return out
}

// lookup resolves a BitMEX symbol; the error is BitMEX's message.
func (s *Server) lookup(symbol string) (market.Market, string) {
	if m, ok := s.aliases[strings.ToUpper(symbol)]; ok {
		return m, ""
	}
	return market.Market{}, "Unknown symbol: " + symbol
}

// Register mounts /realtime, /api/v1/trade, /api/v1/trade/bucketed,
// /api/v1/instrument/active(AndIndices) and /api/v1/wallet/assets on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /realtime", s.serveRealtime)
	mux.HandleFunc("GET /api/v1/trade", s.serveTrade)
	mux.HandleFunc("GET /api/v1/trade/bucketed", s.serveBucketed)
	mux.HandleFunc("GET /api/v1/instrument/active", s.serveInstruments)
	mux.HandleFunc("GET /api/v1/instrument/activeAndIndices", s.serveInstruments)
	mux.HandleFunc("GET /api/v1/wallet/assets", s.serveAssets)
}

// PublishTrade hands a live trade to the trade-table subscribers of its
// market (collector.Trades) and to the window GET /api/v1/trade reads; it
// never blocks.
func (s *Server) PublishTrade(t market.Trade) {
	s.recent.add(t)
	s.trades.publish(t)
}

// tradeFanout is the trade table's subscribers per market.
type tradeFanout struct {
	mu   sync.RWMutex
	subs map[market.Market]map[*tradeSub]struct{}
}

// tradeSub is one connection's trades, of every market it subscribed to.
// A connection that lets maxQueuedTrades pile up is ended as slow.
type tradeSub struct {
	c    chan market.Trade
	slow chan struct{}
	once sync.Once
}

const maxQueuedTrades = 4096

func newTradeSub() *tradeSub {
	return &tradeSub{c: make(chan market.Trade, maxQueuedTrades), slow: make(chan struct{})}
}

func (f *tradeFanout) add(m market.Market, ts *tradeSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs[m] == nil {
		f.subs[m] = map[*tradeSub]struct{}{}
	}
	f.subs[m][ts] = struct{}{}
}

func (f *tradeFanout) remove(m market.Market, ts *tradeSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs[m], ts)
	if len(f.subs[m]) == 0 {
		delete(f.subs, m)
	}
}

func (f *tradeFanout) publish(t market.Trade) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for ts := range f.subs[t.Market] {
		select {
		case ts.c <- t:
		default:
			ts.once.Do(func() { close(ts.slow) })
		}
	}
}
