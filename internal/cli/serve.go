package cli

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/store"
	"github.com/candlewire/candlewire/internal/web"
)

// startHTTP serves the API, the BitMEX-compatible endpoint, the chart
// page, /metrics, /healthz and /v1/status on o.listen (TLS when
// configured).
func startHTTP(o runOptions, st store.Store, h *hub.Hub, compat *bitmexcompat.Server, reg *prometheus.Registry, log *slog.Logger) (*api.Server, error) {
	srv, err := api.Listen(o.listen, o.serve.TLSCert, o.serve.TLSKey, log.With("component", "http"))
	if err != nil {
		return nil, err
	}
	mux := httpRoutes(reg, st, o)
	a := api.New(api.Config{Store: st, Hub: h, Registerer: reg, Markets: o.markets, Tokens: o.serve.Tokens, Origins: o.serve.Origins,
		Hosts: allowedHosts(srv.Addr(), o.serve.Hosts, log), MaxConnsPerIP: o.serve.MaxConnsPerIP})
	a.Register(mux)
	compat.SetAdmit(a.Admit) // /realtime counts against max_conns_per_ip with the API's streams
	compat.Register(mux)
	web.Register(mux)
	if !web.Built() {
		log.Warn("the chart page was not built into this binary; run ./scripts/build-web (or ./scripts/demo) to have it at /")
	}
	srv.Handler = a.Protect(mux)
	log.Info("candlewire running", "markets", fmt.Sprint(o.markets), "db", o.db, "http", srv.URL(),
		"bitmex_symbols", strings.Join(compat.Symbols(), ","))
	return srv, nil
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
