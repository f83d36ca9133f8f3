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

// httpServer is run's HTTP side, listening, served by Run.
type httpServer struct {
	srv    *http.Server
	ln     net.Listener
	useTLS bool
}

// startHTTP serves the API, the BitMEX-compatible endpoint, the chart
// page, /metrics, /healthz and /v1/status on o.listen (TLS when
// configured).
func startHTTP(o runOptions, st store.Store, h *hub.Hub, compat *bitmexcompat.Server, reg *prometheus.Registry, log *slog.Logger) (*httpServer, error) {
	tlsCfg, err := loadTLS(o.serve.TLSCert, o.serve.TLSKey)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	mux := httpRoutes(reg, st, o)
	a := api.New(api.Config{Store: st, Hub: h, Registerer: reg, Markets: o.markets, Tokens: o.serve.Tokens, Origins: o.serve.Origins,
		Hosts: allowedHosts(ln.Addr(), o.serve.Hosts, log), MaxConnsPerIP: o.serve.MaxConnsPerIP})
	a.Register(mux)
	compat.SetAdmit(a.Admit) // /realtime counts against max_conns_per_ip with the API's streams
	compat.Register(mux)
	web.Register(mux)
	if !web.Built() {
		log.Warn("the chart page was not built into this binary; run ./scripts/build-web (or ./scripts/demo) to have it at /")
	}
	hlog := log.With("component", "http")
	srv := newHTTPServer(a.Protect(mux), hlog)
	srv.TLSConfig = tlsCfg
	s := &httpServer{srv: srv, ln: ln, useTLS: tlsCfg != nil}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("candlewire running", "markets", fmt.Sprint(o.markets), "db", o.db, "http", scheme+"://"+ln.Addr().String(),
		"bitmex_symbols", strings.Join(compat.Symbols(), ","))
	return s, nil
}

// The server's own limits (docs/api.md, Protection): a client has 10 s
// to send a request's headers, and an idle keep-alive connection is
// closed after 2 min. Writes are bounded per response by api.Protect,
// not here: http.Server.WriteTimeout would cut long-lived streams off.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)} // client mistakes, e.g. TLS handshakes
}

// loadTLS is the TLS configuration of serve.tls_cert and tls_key; nil
// without them.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// allowedHosts is the Host allow-list of a server listening on addr with
// serve.hosts. One listening beyond loopback with none configured answers
// to any name, which it warns about: a web page whose domain resolves to
// it (DNS rebinding) can then reach it.
func allowedHosts(addr net.Addr, configured []string, log *slog.Logger) []string {
	hosts := api.AllowedHosts(addr, configured)
	if hosts == nil {
		log.Warn("listening beyond loopback with no serve.hosts: requests addressed to any name are answered; "+
			"list this server's names in serve.hosts to refuse others (DNS rebinding)", "listen", addr.String())
	}
	return hosts
}

// Run serves until ctx ends, then shuts the server down, giving requests
// in flight 5 s.
func (s *httpServer) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() {
		if s.useTLS {
			served <- s.srv.ServeTLS(s.ln, "", "") // the certificate is in srv.TLSConfig
		} else {
			served <- s.srv.Serve(s.ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("HTTP server stopped: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(sctx) //nolint:errcheck // shutting down anyway
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("HTTP server stopped: %w", err)
	}
	return nil
}
