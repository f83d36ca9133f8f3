package upstream

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/candlewire/candlewire/internal/metrics"
)

// TestSlowFrameIsCountedAndLogged: a frame that missed a decoder's fast
// path is counted by venue and kind, and logged (the frame at debug level).
func TestSlowFrameIsCountedAndLogged(t *testing.T) {
	var log bytes.Buffer
	met := metrics.New(prometheus.NewRegistry())
	cfg := Config{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})), Metrics: met}.ForVenue("okx", 1, time.Second)
	cfg.SlowFrame("trades", []byte(`{"data":[],"arg":{}}`))
	cfg.SlowFrame("trades", bytes.Repeat([]byte("x"), 2000))
	if n := testutil.ToFloat64(met.SlowFrames.WithLabelValues("okx", "trades")); n != 2 {
		t.Fatalf("counted %v slow frames, want 2", n)
	}
	text := log.String()
	if !strings.Contains(text, "level=WARN msg=\"frame missed the decoder's fast path\" venue=okx kind=trades") ||
		!strings.Contains(text, `{\"data\":[],\"arg\":{}}`) || strings.Contains(text, strings.Repeat("x", 513)) {
		t.Fatalf("log:\n%s", text)
	}
}
