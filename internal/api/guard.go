package api

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
)

// guard protects every route: bearer tokens (when configured) and a limit
// of concurrent streaming connections per client IP.
type guard struct {
	tokens [][]byte
	perIP  int
	mu     sync.Mutex
	open   map[string]int // streaming connections per IP
}

func newGuard(tokens []string, perIP int) *guard {
	g := &guard{perIP: perIP, open: map[string]int{}}
	for _, t := range tokens {
		g.tokens = append(g.tokens, []byte(t))
	}
	return g
}

// authorized accepts "Authorization: Bearer T" or, for browsers' WebSocket
// and EventSource, which cannot set headers, ?token=T.
func (g *guard) authorized(r *http.Request) bool {
	if len(g.tokens) == 0 {
		return true
	}
	t := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		t = strings.TrimPrefix(h, "Bearer ")
	}
	ok := 0
	for _, want := range g.tokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), want)
	}
	return ok == 1
}

// wrap checks the token of every request.
func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="candlewire"`)
			httpError(w, http.StatusUnauthorized, "missing or invalid token (send Authorization: Bearer TOKEN, or ?token=TOKEN)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stream admits one streaming connection (WebSocket, SSE, long poll) from
// r's IP; the returned func releases it. ok is false over the limit.
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

// limited applies the per-IP limit to a streaming handler.
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
