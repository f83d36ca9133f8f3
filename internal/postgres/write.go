package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candlewire/candlewire/internal/market"
	"github.com/candlewire/candlewire/internal/store"
)

// ErrLostGuard is a write whose guarded upsert refused a row: another
// writer changed it without the head lock. It is never expected; the
// transaction is rolled back and nothing of the batch is stored.
var ErrLostGuard = errors.New("a stored revision moved under the write")

// Upsert implements store.Store.
func (s *Store) Upsert(ctx context.Context, cs []market.Candle) (store.Result, error) {
	r, _, err := s.Write(ctx, cs, nil)
	return r, err
}

// Write implements store.Store: under the head lock, the batch and then
// the rows derive returns for its changes are merged and written, and the
// head moves past their sequence numbers, in one transaction.
func (s *Store) Write(ctx context.Context, cs []market.Candle, derive store.Derive) (res, derived store.Result, err error) {
	now := s.now()
	err = s.locked(ctx, now, func(tx pgx.Tx, seq *int64, added *int) error {
		var err error
		if res, err = merge(ctx, tx, cs, now, seq, added); err != nil {
			return err
		}
		if derive == nil {
			return nil
		}
		more, err := derive(ctx, txReader{tx}, res.Changed)
		if err != nil {
			return fmt.Errorf("derive from %d changed candles: %w", len(res.Changed), err)
		}
		if derived, err = merge(ctx, tx, more, now, seq, added); err != nil {
			return fmt.Errorf("derived: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Result{}, store.Result{}, fmt.Errorf("upsert %d candles: %w", len(cs), err)
	}
	return res, derived, nil
}

// locked runs body in one transaction that holds the head lock (every
// writer's, see the package doc). body numbers the rows it changes after
// *seq and counts the new bins in *added; the head then moves past them
// (marked at now's minute), and after the commit the planner's statistics
// hear of the new bins.
func (s *Store) locked(ctx context.Context, now time.Time, body func(tx pgx.Tx, seq *int64, added *int) error) error {
	added := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT seq FROM candle_head WHERE id = 1 FOR UPDATE`).Scan(&seq); err != nil {
			return fmt.Errorf("lock the head: %w", err)
		}
		start := seq
		if err := body(tx, &seq, &added); err != nil || seq == start {
			return err
		}
		return moveHead(ctx, tx, seq, now)
	})
	if err == nil {
		s.stats.inserted(s, added)
	}
	return err
}

// moveHead sets the head to seq and marks it as the head at now's minute
// (the retention's floor is read from these marks).
func moveHead(ctx context.Context, tx pgx.Tx, seq int64, now time.Time) error {
	_, err := tx.Exec(ctx, `WITH h AS (UPDATE candle_head SET seq = $1 WHERE id = 1)
		INSERT INTO head_marks (minute, seq) VALUES ($2, $1) ON CONFLICT (minute) DO UPDATE SET seq = excluded.seq`,
		seq, now.Truncate(time.Minute).UnixMilli())
	if err != nil {
		return fmt.Errorf("move the head: %w", err)
	}
	return nil
}

// merge merges cs against the stored rows (store.Apply) and writes the
// changed ones, numbering them after *seq and counting new bins in *added.
func merge(ctx context.Context, tx pgx.Tx, cs []market.Candle, now time.Time, seq *int64, added *int) (store.Result, error) {
	have, err := stored(ctx, tx, cs)
	if err != nil {
		return store.Result{}, err
	}
	var pw pending
	get := func(k market.Key) (*market.Candle, error) { return have[k], nil }
	fresh := map[market.Key]bool{}
	put := func(c market.Candle) error {
		if have[c.Key()] == nil {
			*added++
			fresh[c.Key()] = true
		}
		have[c.Key()] = &c // a later row of the same bin merges with this one
		pw.add(c, fresh[c.Key()])
		return nil
	}
	r, err := store.Apply(cs, now, seq, get, put)
	if err != nil {
		return store.Result{}, err
	}
	return r, pw.write(ctx, tx)
}

// stored reads the stored rows of the bins in cs, in one statement.
func stored(ctx context.Context, tx pgx.Tx, cs []market.Candle) (map[market.Key]*market.Candle, error) {
	n := len(cs)
	vs, ss, is, ts := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]int64, 0, n)
	for _, c := range cs {
		vs, ss, is, ts = append(vs, c.Market.Venue), append(ss, c.Market.Symbol), append(is, string(c.Interval)), append(ts, c.OpenTime)
	}
	rows, err := collect(ctx, tx, "stored rows", `SELECT `+cols+` FROM candles c
		JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])) AS k(v, s, i, t)
		ON c.venue = k.v AND c.symbol = k.s AND c.interval = k.i AND c.open_time = k.t`, vs, ss, is, ts)
	if err != nil {
		return nil, err
	}
	have := make(map[market.Key]*market.Candle, len(rows))
	for i := range rows {
		have[rows[i].Key()] = &rows[i]
	}
	return have, nil
}

// pending are the changed rows of a batch, one per bin (the last
// version), in the order first seen; fresh are the bins not stored before.
type pending struct {
	rows  []market.Candle
	at    map[market.Key]int
	fresh map[market.Key]bool
}

// add queues c; isNew says its bin was not stored before the transaction.
func (p *pending) add(c market.Candle, isNew bool) {
	if p.at == nil {
		p.at, p.fresh = map[market.Key]int{}, map[market.Key]bool{}
	}
	if i, ok := p.at[c.Key()]; ok {
		p.rows[i] = c
		return
	}
	p.at[c.Key()], p.fresh[c.Key()] = len(p.rows), isNew
	p.rows = append(p.rows, c)
}

// rowsFrom is a batch of rows given as column arrays.
const rowsFrom = `unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::bigint[], $12::smallint[], $13::bigint[], $14::text[], $15::bigint[], $16::bigint[])
		AS u(v, s, i, t, o, h, l, cl, vol, q, n, st, rev, src, up, seq)`

// insertSQL writes new bins: a plain INSERT, which costs less than half of
// one with ON CONFLICT. The head lock keeps other writers out, and a bin
// inserted past it would fail the transaction on the primary key, not
// overwrite anything.
const insertSQL = `INSERT INTO candles (venue, symbol, interval, open_time, open, high, low, close, volume, quote, trades,
		state, rev, source, updated_at, seq)
	SELECT v, s, i, t, o::numeric, h::numeric, l::numeric, cl::numeric, vol::numeric, q::numeric, n, st, rev, src, up, seq
	FROM ` + rowsFrom

// updateHead replaces stored bins, each only by a higher revision.
const updateHead = `UPDATE candles AS c SET open = u.o::numeric, high = u.h::numeric, low = u.l::numeric,
		close = u.cl::numeric, volume = u.vol::numeric, quote = u.q::numeric, trades = u.n, state = u.st, rev = u.rev,
		source = u.src, updated_at = u.up, seq = u.seq
	FROM ` + rowsFrom + `
	WHERE c.venue = u.v AND c.symbol = u.s AND c.interval = u.i AND c.open_time = u.t AND c.rev < u.rev`

// updateSQL writes new revisions of merged bins. Its WHERE is the merge's
// guard in the database (market.Merge's rules): a stored row is replaced
// only by a higher revision, of a later lifecycle state, or of the same
// state with no less evidence (a 1m bin short of reconciled: as much
// volume or more, and as many trades or more at equal volume). So no
// writer, locked or not, can lose another's update, move a candle back in
// its lifecycle, or take a bin back to a lagging version.
const updateSQL = updateHead + ` AND (c.state < u.st OR c.state = u.st AND (
	u.st = 3 OR u.i <> '1m' OR c.volume < u.vol::numeric OR c.volume = u.vol::numeric AND c.trades <= u.n))`

// write stores the rows, new bins with insertSQL and the others with
// updateSQL, and checks the guard let every one through.
func (p *pending) write(ctx context.Context, tx pgx.Tx) error {
	var fresh, old []market.Candle
	for _, c := range p.rows {
		if p.fresh[c.Key()] {
			fresh = append(fresh, c)
		} else {
			old = append(old, c)
		}
	}
	if err := execRows(ctx, tx, insertSQL, fresh); err != nil {
		return fmt.Errorf("insert %d rows: %w", len(fresh), err)
	}
	if err := execRows(ctx, tx, updateSQL, old); err != nil {
		return fmt.Errorf("update %d rows: %w", len(old), err)
	}
	return nil
}

// execRows runs q over cs as column arrays and checks it wrote each.
func execRows(ctx context.Context, tx pgx.Tx, q string, cs []market.Candle) error {
	n := len(cs)
	if n == 0 {
		return nil
	}
	var (
		text  [10][]string // venue symbol interval o h l c v q source
		ints  [5][]int64   // open_time trades rev updated_at seq
		state = make([]int16, 0, n)
	)
	for _, c := range cs {
		for i, s := range []string{c.Market.Venue, c.Market.Symbol, string(c.Interval), c.Open.String(), c.High.String(),
			c.Low.String(), c.Close.String(), c.Volume.String(), c.Quote.String(), string(c.Source)} {
			text[i] = append(text[i], s)
		}
		for i, v := range []int64{c.OpenTime, c.Trades, c.Rev, c.Updated, c.Seq} {
			ints[i] = append(ints[i], v)
		}
		state = append(state, int16(c.State))
	}
	tag, err := tx.Exec(ctx, q, text[0], text[1], text[2], ints[0], text[3], text[4], text[5], text[6], text[7], text[8],
		ints[1], state, ints[2], text[9], ints[3], ints[4])
	if err != nil {
		return err
	}
	if got := tag.RowsAffected(); got != int64(n) {
		return fmt.Errorf("%d of %d stored: %w", got, n, ErrLostGuard)
	}
	return nil
}

// txReader reads candles inside a write transaction (store.Reader), so a
// derive sees the batch's own rows.
type txReader struct{ tx pgx.Tx }

func (r txReader) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	return rangeOf(ctx, r.tx, m, iv, from, to, 1<<62)
}
