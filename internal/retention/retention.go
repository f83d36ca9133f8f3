package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/candlewire/candlewire/internal/market"
)

// Store is what retention deletes from.
type Store interface {
	// Series lists the stored series.
	Series(ctx context.Context) ([]market.Series, error)
	// DeleteBefore deletes at most limit bins of s that opened before
	// before, oldest first, and says how many it deleted.
	DeleteBefore(ctx context.Context, s market.Series, before int64, limit int) (int64, error)
	// Latest returns the newest n bins of a series.
	Latest(ctx context.Context, m market.Market, iv market.Interval, n int) ([]market.Candle, error)
}

// chunk is the most bins one delete takes: a writer waits for one chunk
// at most, not for a whole first pass over months.
const chunk = 5000

// Config is what a Retention keeps.
type Config struct {
	Spans map[market.Interval]time.Duration // how long each interval is kept; others for ever
	// Keep is how much of a series, behind its newest stored bin, is never
	// deleted, whatever its span: the stretch gap repair and the rollup
	// rebuild at start read and write again (their look-back and a day).
	// A market no longer collected keeps that much. Default 8 days.
	Keep    time.Duration
	Every   time.Duration          // between passes; default 10 minutes
	Now     func() time.Time       // default time.Now
	Deleted *prometheus.CounterVec // by interval; nil counts nothing
	Logger  *slog.Logger
}

// Retention applies Config to a store.
type Retention struct {
	st  Store
	cfg Config
}

// New returns the retention of st; with no spans it does nothing.
func New(st Store, cfg Config) *Retention {
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Minute
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 8 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for iv := range cfg.Spans {
		if cfg.Deleted != nil {
			cfg.Deleted.WithLabelValues(string(iv)) // exists at 0 from the start
		}
	}
	return &Retention{st: st, cfg: cfg}
}

// Run passes at once and then every Config.Every until ctx ends; a failed
// pass is logged and the next one tries again.
func (r *Retention) Run(ctx context.Context) error {
	if len(r.cfg.Spans) == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	for {
		if n, err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("retention pass failed; the next one retries", "err", err)
		} else if n > 0 {
			r.cfg.Logger.Info("retention deleted old candles", "candles", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass deletes, series by series, every bin that ended longer ago than
// its interval's span, and returns how many it deleted.
func (r *Retention) Pass(ctx context.Context) (int64, error) {
	if len(r.cfg.Spans) == 0 {
		return 0, nil
	}
	ss, err := r.st.Series(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: list the series: %w", err)
	}
	now, total := r.cfg.Now(), int64(0)
	for _, s := range ss {
		span, ok := r.cfg.Spans[s.Interval]
		if !ok {
			continue
		}
		newest, err := r.st.Latest(ctx, s.Market, s.Interval, 1)
		if err != nil {
			return total, fmt.Errorf("retention: the newest bin of %s: %w", s, err)
		}
		if len(newest) == 0 {
			continue
		}
		before := min(now.Add(-span).UnixMilli()-s.Interval.Millis(), // bins that ended before now-span
			newest[0].OpenTime-r.cfg.Keep.Milliseconds())
		n, err := r.deleteSeries(ctx, s, before)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// deleteSeries deletes chunk after chunk of s before before.
func (r *Retention) deleteSeries(ctx context.Context, s market.Series, before int64) (int64, error) {
	total := int64(0)
	for {
		n, err := r.st.DeleteBefore(ctx, s, before, chunk)
		total += n
		if r.cfg.Deleted != nil && n > 0 {
			r.cfg.Deleted.WithLabelValues(string(s.Interval)).Add(float64(n))
		}
		if err != nil {
			return total, fmt.Errorf("retention: delete %s before %d: %w", s, before, err)
		}
		if n < chunk {
			return total, nil
		}
	}
}
