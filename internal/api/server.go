package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is the node's HTTP server: listening (with TLS when configured),
// served by Run with Handler.
type Server struct {
	Handler http.Handler
	ln      net.Listener
	tls     *tls.Config
	log     *slog.Logger
}

// Listen listens on addr, with TLS when certFile (and keyFile) are set.
func Listen(addr, certFile, keyFile string, log *slog.Logger) (*Server, error) {
	cfg, err := loadTLS(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return &Server{ln: ln, tls: cfg, log: log}, nil
}

// URL is where the server answers: http:// or https:// and its address.
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.ln.Addr().String()
	}
	return "http://" + s.ln.Addr().String()
}

// Addr is the address it listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Run serves Handler until ctx ends, then shuts the server down, giving
// requests in flight 5 s.
func (s *Server) Run(ctx context.Context) error {
	srv := newHTTPServer(s.Handler, s.log)
	srv.TLSConfig = s.tls
	served := make(chan error, 1)
	go func() {
		if s.tls != nil {
			served <- srv.ServeTLS(s.ln, "", "") // the certificate is in srv.TLSConfig
		} else {
			served <- srv.Serve(s.ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("HTTP server stopped: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx) //nolint:errcheck // shutting down anyway
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("HTTP server stopped: %w", err)
	}
	return nil
}

// The server's own limits (docs/api.md, Protection): a client has 10 s
// to send a request's headers, and an idle keep-alive connection is
// closed after 2 min. Writes are bounded per response by Protect, not
// here: http.Server.WriteTimeout would cut long-lived streams off.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// newHTTPServer is an http.Server for h with the server's own limits.
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
