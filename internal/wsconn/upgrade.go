package wsconn

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gobwas/ws"
)

// Upgrader accepts WebSocket connections; its connections share its
// Config.
type Upgrader struct{ cfg Config }

// NewUpgrader returns an upgrader with cfg (zero fields take defaults).
func NewUpgrader(cfg Config) *Upgrader { return &Upgrader{cfg: cfg.withDefaults()} }

// Upgrade checks the request's Origin and answers the opening handshake.
// On an error the request has been answered (403 for a foreign Origin,
// 4xx for a bad handshake). Call Serve on the connection next.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	if err := checkOrigin(r, u.cfg.Origins); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, err
	}
	nc, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	var rd io.Reader = nc
	if n := rw.Reader.Buffered(); n > 0 { // the client sent frames before reading the 101
		early, _ := rw.Reader.Peek(n)
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)
	}
	return newConn(nc, rd, &u.cfg), nil
}

// checkOrigin lets browsers on the server's own host, on a host matching
// one of patterns, and clients that send no Origin (not browsers) in.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("bad Origin header %q: %w", origin, err)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not allowed (serve.origins lists the hosts allowed)", origin)
}
