package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/candlewire/candlewire/internal/record"
	"github.com/candlewire/candlewire/internal/replay"
)

// replayCmd serves recordings back over WebSocket until interrupted.
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	listen := fs.String("listen", "127.0.0.1:9200", "address")
	speed := fs.Float64("speed", 1, "recorded seconds per real second; 0 plays without waiting")
	level := fs.String("log", "info", "log level")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *speed < 0 {
		return fmt.Errorf("%w: replay needs recording files (and a --speed of 0 or more)", errUsage)
	}
	log := newLogger(stderr, *level)
	var sessions []replay.Session
	for _, path := range fs.Args() {
		lines, err := record.ReadFile(path)
		if err != nil {
			return err
		}
		ss, err := replay.Sessions(path, lines)
		if err != nil {
			return err
		}
		sessions = append(sessions, ss...)
	}
	srv := replay.New(replay.Config{Speed: *speed, Logger: log}, sessions)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	// Requests, and so the sessions being played, end with ctx.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	fmt.Fprintf(stdout, "candlewire replay on %s: %d sessions\n", ln.Addr(), len(sessions))
	paths := srv.Paths()
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		fmt.Fprintf(stdout, "  ws://%s%s  (%d sessions)\n", ln.Addr(), p, paths[p])
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	srv.Wait()
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
	}
	return nil
}
