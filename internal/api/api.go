package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/store"
)

// Config configures the API. Store and Hub are required; zero fields take
// the documented defaults.
type Config struct {
	Store  store.Store
	Hub    *hub.Hub
	Logger *slog.Logger
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
}

// API serves the candle transports.
type API struct {
	cfg Config
	log *slog.Logger
}

// New returns an API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
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
	return &API{cfg: cfg, log: cfg.Logger}
}

// Register mounts the routes on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/ws", a.serveWS)
	mux.HandleFunc("GET /v1/sse", a.serveSSE)
	mux.HandleFunc("GET /v1/poll", a.servePoll)
	mux.HandleFunc("GET /v1/candles", a.serveCandles)
}

// httpError answers a request with a JSON error.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := append([]byte(`{"error":`), quote(msg)...)
	w.Write(append(b, "}\n"...)) //nolint:errcheck // the client went away
}
