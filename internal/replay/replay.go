package replay

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/record"
)

// Session is one recorded connection.
type Session struct {
	Source string // the file it came from
	URL    string // as recorded
	Path   string // the URL's path, which clients connect to
	At     time.Time
	Frames []record.Line // received frames, in order
}

// Sessions splits recording lines into sessions at each connect line.
// Lines before the first connect line belong to no session and are an
// error.
func Sessions(source string, lines []record.Line) ([]Session, error) {
	var out []Session
	for i, l := range lines {
		switch {
		case l.Kind == 'c':
			u, err := url.Parse(l.URL)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: connect URL %q: %w", source, i+1, l.URL, err)
			}
			out = append(out, Session{Source: source, URL: l.URL, Path: cmp.Or(u.Path, "/"), At: l.At})
		case len(out) == 0:
			return nil, fmt.Errorf("%s line %d: a frame before any connect line", source, i+1)
		case l.Kind == 'r':
			out[len(out)-1].Frames = append(out[len(out)-1].Frames, l)
		}
	}
	return out, nil
}

// Config configures a Server.
type Config struct {
	Speed  float64 // recorded seconds per real second; 0 plays without waiting
	Logger *slog.Logger
}

// Server plays sessions to the clients that connect to their paths.
type Server struct {
	cfg    Config
	mu     sync.Mutex
	queues map[string][]Session // by path, oldest first, not yet played
	klines map[string][]kline   // Binance's final 1m klines, by symbol, for REST
	wg     sync.WaitGroup
	stop   context.Context // ends every session being played (Close)
	halt   context.CancelFunc
}

// New queues sessions by path, oldest first.
func New(cfg Config, sessions []Session) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, queues: map[string][]Session{}, klines: klinesOf(sessions)}
	s.stop, s.halt = context.WithCancel(context.Background())
	for _, se := range sessions {
		s.queues[se.Path] = append(s.queues[se.Path], se)
	}
	for _, q := range s.queues {
		sort.SliceStable(q, func(i, j int) bool { return q[i].At.Before(q[j].At) })
	}
	return s
}

// Paths lists the recorded paths and how many sessions each has left.
func (s *Server) Paths() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for p, q := range s.queues {
		out[p] = len(q)
	}
	return out
}

// Close ends the sessions being played and waits for them. The HTTP
// server's shutdown does not: a WebSocket is hijacked from it.
func (s *Server) Close() {
	s.halt()
	s.wg.Wait()
}

func (s *Server) next(path string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[path]
	if len(q) == 0 {
		return Session{}, false
	}
	first := q[0]
	s.queues[path] = slices.Delete(q, 0, 1)
	return first, true
}

// ServeHTTP accepts a WebSocket on a recorded path and plays its next
// session; a path with none left gets 404. GET …/api/v3/klines is
// Binance's REST, answered from the recorded final klines (a collector
// repairs its gaps with it); other REST paths are not in a recording: 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/api/v3/klines") {
		s.serveKlines(w, r)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not in the recording: a recording holds what venues sent over WebSocket; the replay answers Binance's GET …/api/v3/klines from it, no other REST", http.StatusNotFound)
		return
	}
	se, ok := s.next(r.URL.Path)
	if !ok {
		http.Error(w, "no recorded session left for "+r.URL.Path, http.StatusNotFound)
		return
	}
	s.wg.Add(1) // before the connection is hijacked: Close waits for it
	defer s.wg.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	s.cfg.Logger.Info("playing", "source", se.Source, "url", se.URL, "frames", len(se.Frames))
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.stop, cancel)()
	go discard(ctx, cancel, ws)
	if err := s.play(ctx, ws, se); err != nil {
		ws.CloseNow() //nolint:errcheck // the client went away
		return
	}
	ws.Close(websocket.StatusNormalClosure, "end of recording") //nolint:errcheck // best effort
}

// discard reads what the client sends (subscriptions, pings: the
// recording already holds the answers) until the connection ends, which
// cancels the session.
func discard(ctx context.Context, cancel context.CancelFunc, ws *websocket.Conn) {
	defer cancel()
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
	}
}

// play sends the frames at their recorded offsets from the first one.
func (s *Server) play(ctx context.Context, ws *websocket.Conn, se Session) error {
	start := time.Now()
	for _, f := range se.Frames {
		if s.cfg.Speed > 0 {
			due := start.Add(time.Duration(float64(f.At.Sub(se.Frames[0].At)) / s.cfg.Speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		if err := ws.Write(ctx, websocket.MessageText, f.Text); err != nil {
			return err
		}
	}
	return nil
}
