package api

import (
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/runq"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/wsconn"
)

// Config configures the API. Store and Hub are required; zero fields take
// the documented defaults.
type Config struct {
	Store store.Candles
	Hub   *hub.Hub
	// Markets are the collected markets: a stream (or /v1/candles market)
	// of any other is refused with 400. None accepts every well-formed
	// stream, for embedders that serve whatever the store holds.
	Markets []market.Market
	// Heartbeat is how often an idle SSE stream gets a comment line;
	// default 15s.
	Heartbeat time.Duration
	// PingEvery is how often the server sends a WebSocket ping; default 20s.
	PingEvery time.Duration
	// MaxMessage bounds a client's WebSocket message; default 64 KiB.
	MaxMessage int64
	// MaxStreams bounds the streams of one client; default 200.
	MaxStreams int
	// MaxPollTimeout bounds a long poll's wait; default 60s.
	MaxPollTimeout time.Duration
	// Tokens, when any, are the bearer tokens every request must carry.
	Tokens []string
	// Origins are the host patterns (path.Match syntax, e.g.
	// "*.example.com") of pages allowed to open WebSockets besides the
	// server's own host; any other Origin is refused.
	Origins []string
	// Hosts are the names (Host header; "name", "name:port" or a
	// path.Match pattern, a port only when given) requests may be
	// addressed to; others get 421, against DNS rebinding. None allows
	// any Host. AllowedHosts makes the list for a listener.
	Hosts []string
	// MaxConnsPerIP bounds the open streaming connections and /v1/candles
	// requests of one client address; default 1000, negative for no limit.
	MaxConnsPerIP int
	// Writers is how many goroutines run WebSocket sessions' steps besides
	// the fan-out's (client ops, store reads, clients that were slow to
	// take a write); default twice GOMAXPROCS. The fan-out of each change
	// runs on GOMAXPROCS goroutines of its own.
	Writers int
	// WriteBatch is how many WebSocket writes a writer gathers into one
	// system call (io_uring, where the kernel allows it); default 256,
	// negative for a write(2) each.
	WriteBatch int
	// Registerer, when set, gets the API's metrics.
	Registerer prometheus.Registerer
}

// API serves the candle transports.
type API struct {
	cfg      Config
	markets  map[market.Market]bool // cfg.Markets; nil accepts any
	guard    *guard
	met      *apiMetrics
	writers  *runq.Queue // run the WebSocket sessions
	batches  *batchPool  // the writers' batches
	upgrader *wsconn.Upgrader
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.PingEvery <= 0 {
		cfg.PingEvery = 20 * time.Second
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 64 << 10
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 200
	}
	if cfg.MaxPollTimeout <= 0 {
		cfg.MaxPollTimeout = 60 * time.Second
	}
	if cfg.MaxConnsPerIP == 0 {
		cfg.MaxConnsPerIP = 1000
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.WriteBatch == 0 {
		cfg.WriteBatch = 256
	}
	procs := runtime.GOMAXPROCS(0)
	pool := &batchPool{size: cfg.WriteBatch, keep: cfg.Writers + procs}
	writers := runq.NewBatched(cfg.Writers, pool.get, pool.put)
	if cfg.Hub != nil { // the fan-outs' parts never wait, so a Publish waits for CPU only
		cfg.Hub.SetPass(pass{runq.NewBatched(procs, pool.get, pool.put)})
	}
	return &API{cfg: cfg, markets: marketSet(cfg.Markets), guard: newGuard(cfg.Tokens, cfg.MaxConnsPerIP),
		met: newMetrics(cfg.Registerer), writers: writers, batches: pool,
		upgrader: wsconn.NewUpgrader(wsconn.Config{MaxMessage: cfg.MaxMessage, Origins: cfg.Origins})}
}

// Batched reports whether WebSocket writes are gathered into one system
// call per batch (io_uring), and if not, why. It sets up the first batch
// to find out.
func (a *API) Batched() (bool, error) {
	a.batches.put(a.batches.get())
	return a.batches.batched()
}

// Register mounts the routes on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/ws", a.serveWS) // limited by the session: it outlives the handler
	mux.HandleFunc("GET /v1/sse", a.limited("sse", a.serveSSE))
	mux.HandleFunc("GET /v1/poll", a.limited("longpoll", a.servePoll))
	mux.HandleFunc("GET /v1/candles", a.limited("poll", a.serveCandles))
}

// Protect wraps the whole server's handler (the API's routes and any
// other) with the Host and token checks, and bounds the writing of every
// response but WebSockets' (see boundWrites).
func (a *API) Protect(h http.Handler) http.Handler { return a.guard.wrap(parseHosts(a.cfg.Hosts), h) }

// httpError answers a request with a JSON error.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := append([]byte(`{"error":`), quote(msg)...)
	w.Write(append(b, "}\n"...)) //nolint:errcheck // the client went away
}
