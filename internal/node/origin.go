package node

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/postgres"
	"github.com/candlewire/candlewire/internal/sim"
	"github.com/candlewire/candlewire/internal/store"
)

// Origins of a store's candles: a simulation's never mix with live ones.
const (
	OriginSim  = "sim"
	OriginLive = "live"
)

// originStore records where its candles come from (the SQLite and
// PostgreSQL stores do).
type originStore interface {
	ClaimOrigin(ctx context.Context, origin string) (string, error)
}

// ClaimOrigin refuses a store whose candles come from elsewhere than
// origin, and marks an unmarked or empty one as origin's ("" claims
// nothing).
func ClaimOrigin(ctx context.Context, st store.Store, db, origin string) error {
	os, ok := st.(originStore)
	if !ok || origin == "" {
		return nil
	}
	had, err := os.ClaimOrigin(ctx, origin)
	if postgres.IsDSN(db) {
		db = postgres.Redact(db)
	}
	switch {
	case err != nil:
		return err
	case had == origin:
		return nil
	case origin == OriginSim:
		return fmt.Errorf("%s holds live candles, and the simulator's would mix with them: give --sim a database of its own (another --db)", db)
	}
	return fmt.Errorf("%s holds simulated candles (written with --sim), and live ones would mix with them: use another database (--db FILE)", db)
}

// startVenues starts the simulator with --sim, where a stored simulation
// stopped, reads the venues' instrument lists, and then claims the store
// for the node's origin (so a run that stops before it collects leaves no
// mark). stop ends the simulator.
func (n *node) startVenues(ctx context.Context) (stop func(), err error) {
	stop = func() {}
	origin := OriginLive
	if n.Sim != nil {
		origin = OriginSim
		if n.Endpoints, stop, err = StartSimOn(ctx, n.st, n.Markets, n.Endpoints, *n.Sim, n.log); err != nil {
			return func() {}, err
		}
	}
	if n.instruments, err = n.Endpoints.Instruments(ctx, n.Markets, n.met, n.log.With("component", "instruments")); err == nil {
		err = ClaimOrigin(ctx, n.st, n.DB, origin)
	}
	if err != nil {
		stop()
		return func() {}, err
	}
	return stop, nil
}

// StartSimOn starts a simulator for ms that goes on where the simulation
// stored in st stopped (Resume), and points eps at it; stop ends it.
func StartSimOn(ctx context.Context, st store.Candles, ms []market.Market, eps Endpoints, sc sim.Config, log *slog.Logger) (_ Endpoints, stop func(), _ error) {
	sc.Logger = log.With("component", "sim")
	if err := Resume(ctx, st, ms, &sc, log); err != nil {
		return eps, func() {}, err
	}
	return eps.StartSim(sc, log)
}

// Resume sets a simulation that starts on a store holding an earlier one
// to go on where that one stopped: each market's price anchored at its
// newest final 1m bin's close, from the minute after it, and, unless a
// start is set, the clock at the latest of those minutes. Bins after a
// newest final were never finished: the new simulation finishes them. A
// store without finals of ms changes nothing.
func Resume(ctx context.Context, st store.Candles, ms []market.Market, sc *sim.Config, log *slog.Logger) error {
	anchors := map[string]sim.Anchor{}
	start := int64(math.MinInt64)
	for _, m := range ms {
		last, ok, err := st.LastReconciled(ctx, m, market.I1m)
		if err == nil && ok {
			var cs []market.Candle
			if cs, err = st.Candles(ctx, m, market.I1m, last, last+1); err == nil && len(cs) == 1 {
				anchors[m.String()] = sim.Anchor{At: last + market.I1m.Millis(), Price: cs[0].Close}
				start = max(start, last+market.I1m.Millis())
			}
		}
		if err != nil {
			return fmt.Errorf("read where the stored simulation of %s stopped: %w", m, err)
		}
	}
	if len(anchors) == 0 {
		return nil
	}
	if sc.Start == 0 {
		sc.Start = start
	}
	sc.Resume = anchors
	log.Info("the simulation goes on where the stored one stopped", "at", time.UnixMilli(sc.Start).UTC().Format(time.RFC3339))
	return nil
}
