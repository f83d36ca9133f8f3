package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/candlewire/candlewire/internal/api"
	"github.com/candlewire/candlewire/internal/record"
	"github.com/candlewire/candlewire/internal/replay"
)

// replayCmd serves recordings back over WebSocket until interrupted.
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	listen := fs.String("listen", "127.0.0.1:9200", "address")
	speed := fs.Float64("speed", 1, "recorded seconds per real second; 0 plays without waiting")
	var lf logFlags
	lf.register(fs, "info")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || *speed < 0 {
		return fmt.Errorf("%w: replay needs recording files (and a --speed of 0 or more)", errUsage)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	var sessions []replay.Session
	for _, path := range files {
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
	defer srv.Close() // after the HTTP server stops
	hs, err := api.Listen(*listen, "", "", log)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	hs.Handler = srv
	fmt.Fprintf(stdout, "candlewire replay on %s: %d sessions\n", hs.Addr(), len(sessions))
	paths := srv.Paths()
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		fmt.Fprintf(stdout, "  ws://%s%s  (%d sessions)\n", hs.Addr(), p, paths[p])
	}
	return hs.Run(ctx)
}
