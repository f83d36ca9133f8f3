package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/web"
)

// httpServer is run's HTTP side and the goroutine serving it.
type httpServer struct {
	srv    *http.Server
	served chan struct{}
}

// startHTTP serves the API, the BitMEX-compatible endpoint, the chart
// page, /metrics, /healthz and /v1/status on o.listen (TLS when
// configured).
func startHTTP(o runOptions, st store.Store, h *hub.Hub, compat *bitmexcompat.Server, reg *prometheus.Registry, log *slog.Logger) (*httpServer, error) {
	mux := httpRoutes(reg, st, o.markets, o.instruments)
	a := api.New(api.Config{Store: st, Hub: h, Registerer: reg, Markets: o.markets,
		Tokens: o.serve.Tokens, Origins: o.serve.Origins, MaxConnsPerIP: o.serve.MaxConnsPerIP})
	a.Register(mux)
	compat.SetAdmit(a.Admit) // /realtime counts against max_conns_per_ip with the API's streams
	compat.Register(mux)
	web.Register(mux)
	if !web.Built() {
		log.Warn("the chart page was not built into this binary; run ./scripts/build-web (or ./scripts/demo) to have it at /")
	}
	hlog := log.With("component", "http")
	srv := &http.Server{Handler: a.Protect(mux), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(hlog.Handler(), slog.LevelDebug)} // client mistakes, e.g. TLS handshakes
	scheme := "http"
	if o.serve.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.serve.TLSCert, o.serve.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig, scheme = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, "https"
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	s := &httpServer{srv: srv, served: make(chan struct{})}
	go func() { defer close(s.served); serveHTTP(srv, ln, scheme == "https", hlog) }()
	log.Info("candlewire running", "markets", fmt.Sprint(o.markets), "db", o.db, "http", scheme+"://"+ln.Addr().String(),
		"bitmex_symbols", strings.Join(compat.Symbols(), ","))
	return s, nil
}

// stop shuts the server down, giving requests in flight 5 s.
func (s *httpServer) stop(ctx context.Context) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(sctx) //nolint:errcheck // shutting down anyway
	<-s.served
}

func serveHTTP(srv *http.Server, ln net.Listener, useTLS bool, log *slog.Logger) {
	var err error
	if useTLS {
		err = srv.ServeTLS(ln, "", "") // the certificate is in srv.TLSConfig
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("HTTP server stopped", "err", err)
	}
}
