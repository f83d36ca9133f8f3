package node

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/candlewire/candlewire/internal/market"
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
// origin, and marks an unmarked one as origin's ("" claims nothing).
func ClaimOrigin(ctx context.Context, st store.Store, db, origin string) error {
	os, ok := st.(originStore)
	if !ok || origin == "" {
		return nil
	}
	had, err := os.ClaimOrigin(ctx, origin)
	switch {
	case err != nil:
		return err
	case had == origin:
		return nil
	case origin == OriginSim:
		return fmt.Errorf("%s holds live candles, and the simulator's would mix with them: give --sim a database of its own (--db sim.db)", db)
	}
	return fmt.Errorf("%s holds simulated candles (written with --sim), and live ones would mix with them: use another database (--db FILE)", db)
}

// startVenues claims the store for the node's origin, and with --sim
// starts the simulator where the stored simulation stopped; then it reads
// the venues' instrument lists. stop ends the simulator.
func (n *node) startVenues(ctx context.Context) (stop func(), err error) {
	stop = func() {}
	origin := OriginLive
	if n.Sim != nil {
		origin = OriginSim
	}
	if err := ClaimOrigin(ctx, n.st, n.DB, origin); err != nil {
		return stop, err
	}
	if n.Sim != nil {
		sc := *n.Sim
		sc.Logger = n.log.With("component", "sim")
		if err := Resume(ctx, n.st, n.Markets, &sc, n.log); err != nil {
			return stop, err
		}
		if n.Endpoints, stop, err = n.Endpoints.StartSim(sc, n.log); err != nil {
			return func() {}, err
		}
	}
	if n.instruments, err = n.Endpoints.Instruments(ctx, n.Markets, n.met, n.log.With("component", "instruments")); err != nil {
		stop()
		return func() {}, err
	}
	return stop, nil
}

// Resume sets a simulation that starts on a store holding an earlier one
// to go on where that one stopped: its clock at the minute after the
// newest final 1m bin of ms (when no start is set), each market's price at
// its newest final's close. Bins after that were never finished: the new
// simulation finishes them. A store without finals of ms changes nothing.
func Resume(ctx context.Context, st store.Candles, ms []market.Market, sc *sim.Config, log *slog.Logger) error {
	newest, closes := int64(math.MinInt64), map[string]market.Decimal{}
	for _, m := range ms {
		last, ok, err := st.LastReconciled(ctx, m, market.I1m)
		if err != nil {
			return fmt.Errorf("read where the stored simulation of %s stopped: %w", m, err)
		}
		if !ok {
			continue
		}
		cs, err := st.Candles(ctx, m, market.I1m, last, last+1)
		if err != nil {
			return fmt.Errorf("read where the stored simulation of %s stopped: %w", m, err)
		}
		if len(cs) == 1 {
			newest, closes[m.String()] = max(newest, last), cs[0].Close
		}
	}
	if len(closes) == 0 || sc.Start != 0 {
		return nil
	}
	sc.Start, sc.Resume = newest+market.I1m.Millis(), closes
	log.Info("the simulation goes on where the stored one stopped", "at", time.UnixMilli(sc.Start).UTC().Format(time.RFC3339))
	return nil
}
