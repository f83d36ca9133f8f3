package node

import (
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/bitmexcompat"
	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/web"
)

// startHTTP listens on the node's address (TLS when configured) and
// routes /metrics, /healthz and /v1/status, and on a serving node the
// API, the BitMEX-compatible endpoint (compat) and the chart page; its
// Run serves them.
func (n *node) startHTTP(compat *bitmexcompat.Server) (*api.Server, error) {
	srv, err := api.Listen(n.Listen, n.Serve.TLSCert, n.Serve.TLSKey, n.log.With("component", "http"))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{Registry: n.reg}))
	var cl api.Cluster
	if n.members != nil {
		cl = clusterView{n}
	}
	status := api.Status{Counts: n.met, Store: n.st, Markets: n.Markets, Instruments: n.instruments, Cluster: cl}
	if n.Role.collects() {
		status.Links = &n.links
	}
	mux.Handle("GET /v1/status", status.Handler())
	mux.Handle("GET /healthz", n.health.Handler())
	a := api.New(api.Config{Store: n.st, Hub: n.hub, Registerer: n.reg, Markets: n.Markets, Tokens: n.Serve.Tokens,
		Origins: n.Serve.Origins, Hosts: allowedHosts(srv.Addr(), n.Serve.Hosts, n.log), MaxConnsPerIP: n.Serve.MaxConnsPerIP})
	srv.Handler = a.Protect(mux)
	if compat == nil {
		n.log.Info("candlewire collecting", "role", n.Role.String(), "markets", marketNames(n.Markets), "db", dbName(n.DB),
			"http", srv.URL())
		return srv, nil
	}
	a.Register(mux)
	compat.SetAdmit(a.Admit) // /realtime counts against max_conns_per_ip with the API's streams
	compat.Register(mux)
	web.Register(mux)
	if !web.Built() {
		n.log.Warn("the chart page was not built into this binary; run ./scripts/build-web (or ./scripts/demo) to have it at /")
	}
	if ok, err := a.Batched(); !ok && err != nil {
		n.log.Info("WebSocket writes take a system call each", "why", err.Error())
	}
	n.log.Info("candlewire running", "role", n.Role.String(), "markets", marketNames(n.Markets), "db", dbName(n.DB), "http", srv.URL(),
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

// dbName is the store's name for a log: a PostgreSQL URL without its
// password.
func dbName(db string) string {
	if postgres.IsDSN(db) {
		return postgres.Redact(db)
	}
	return db
}

// marketNames are the markets' names, for logs (a list in JSON logs).
func marketNames(ms []market.Market) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}
