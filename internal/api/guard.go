package api

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
)

// guard protects every route: the Host allow-list (against DNS rebinding),
// bearer tokens (when configured) and a limit of concurrent connections
// per client IP.
type guard struct {
	tokens [][]byte
	perIP  int
	mu     sync.Mutex
	open   map[string]int // streaming connections and plain requests in flight per IP
}

func newGuard(tokens []string, perIP int) *guard {
	g := &guard{perIP: perIP, open: map[string]int{}}
	for _, t := range tokens {
		g.tokens = append(g.tokens, []byte(t))
	}
	return g
}

// loopbackNames are the names of a loopback listener, always allowed when
// the Host header is checked: a page of another site cannot send them.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// AllowedHosts is the Host allow-list (Config.Hosts) of a server listening
// on addr with the configured hosts: those, the loopback names and addr's
// own host, when addr is a loopback address or hosts are configured; nil,
// which allows any Host, for a server listening on another address with
// none configured.
func AllowedHosts(addr net.Addr, configured []string) []string {
	tcp, _ := addr.(*net.TCPAddr)
	loopback := tcp != nil && tcp.IP.IsLoopback()
	if !loopback && len(configured) == 0 {
		return nil
	}
	out := append(append([]string(nil), configured...), loopbackNames...)
	if loopback {
		out = append(out, tcp.IP.String())
	}
	return out
}

// hostList is the Host allow-list; nil allows any Host.
type hostList []hostPattern

// hostPattern is an allowed host: a name or path.Match pattern, lower
// case, and a port that must match when given.
type hostPattern struct{ name, port string }

func parseHosts(hosts []string) hostList {
	var out hostList
	for _, h := range hosts {
		name, port := splitHost(h)
		out = append(out, hostPattern{strings.ToLower(strings.TrimSuffix(name, ".")), port})
	}
	return out
}

// splitHost splits "name", "name:port", "[::1]" or "[::1]:port".
func splitHost(h string) (name, port string) {
	if n, p, err := net.SplitHostPort(h); err == nil {
		return n, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ""
}

// allows checks a request's Host header. Requests without one (HTTP/1.0)
// are not browsers' and pass.
func (l hostList) allows(host string) bool {
	if l == nil || host == "" {
		return true
	}
	name, port := splitHost(host)
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, p := range l {
		if ok, _ := path.Match(p.name, name); ok && (p.port == "" || p.port == port) {
			return true
		}
	}
	return false
}

// shortHost bounds a Host header quoted in an error.
func shortHost(h string) string {
	if len(h) > 100 {
		return h[:100] + "..."
	}
	return h
}

// authorized accepts "Authorization: Bearer T" (the scheme in any case,
// RFC 7235) or, for browsers' WebSocket and EventSource, which cannot set
// headers, ?token=T.
func (g *guard) authorized(r *http.Request) bool {
	if len(g.tokens) == 0 {
		return true
	}
	t := r.URL.Query().Get("token")
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok && strings.EqualFold(scheme, "bearer") {
		t = strings.TrimSpace(cred)
	}
	ok := 0
	for _, want := range g.tokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), want)
	}
	return ok == 1
}

// wrap checks the Host and the token of every request, and bounds the
// writing of its response (see boundWrites).
func (g *guard) wrap(hosts hostList, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts.allows(r.Host) && !probe(r) {
			httpError(w, http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not served here: add it to serve.hosts "+
				"if this server is meant to answer to that name (other names are refused against DNS rebinding)", shortHost(r.Host)))
			return
		}
		if !g.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="candlewire"`)
			httpError(w, http.StatusUnauthorized, "missing or invalid token (send Authorization: Bearer TOKEN, or ?token=TOKEN)")
			return
		}
		boundWrites(next, w, r)
	})
}

// probe says whether r is an operator's probe, answered whatever its Host:
// a health check or a metrics scrape addressed to the server's IP (a
// Kubernetes httpGet probe, Prometheus). They hold no candles and change
// nothing, so a rebound name gains nothing from them.
func probe(r *http.Request) bool {
	return r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/metrics")
}

// stream admits one connection (WebSocket, SSE, long poll, /v1/candles
// request) from r's IP; the returned func releases it. ok is false over
// the limit.
func (g *guard) stream(r *http.Request) (release func(), ok bool) {
	if g.perIP <= 0 {
		return func() {}, true
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[ip] >= g.perIP {
		return nil, false
	}
	g.open[ip]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.open[ip]--; g.open[ip] == 0 {
			delete(g.open, ip)
		}
	}, true
}

// limited applies the per-IP limit to a handler.
func (a *API) limited(transport string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		release, ok := a.guard.stream(r)
		if !ok {
			a.met.rejected(transport, "per-ip-limit")
			httpError(w, http.StatusTooManyRequests, "too many connections from this address")
			return
		}
		defer release()
		a.met.open(transport, 1)
		defer a.met.open(transport, -1)
		h(w, r)
	}
}
