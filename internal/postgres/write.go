package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	err = s.locked(ctx, now, func(b *batch) error {
		var err error
		if res, err = b.merge(ctx, cs, now); err != nil {
			return err
		}
		if derive == nil {
			return nil
		}
		more, err := derive(ctx, txReader{b.tx}, res.Changed)
		if err != nil {
			return fmt.Errorf("derive from %d changed candles: %w", len(res.Changed), err)
		}
		if derived, err = b.merge(ctx, more, now); err != nil {
			return fmt.Errorf("derived: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.Result{}, store.Result{}, fmt.Errorf("upsert %d candles: %w", len(cs), err)
	}
	return res, derived, nil
}

// batch is one locked write transaction: it numbers the rows it changes
// after seq, counts the new bins in added, and names the series it added.
type batch struct {
	tx      pgx.Tx
	seq     int64
	added   int
	series  []market.Series
	known   *seriesSet
	analyze bool // the rows grew enough for an ANALYZE
}

// locked runs body in one transaction that holds the head lock (every
// writer's, see the package doc). The head then moves past the numbers
// body gave (marked at now's minute), and after the commit the planner's
// statistics hear of the new bins.
func (s *Store) locked(ctx context.Context, now time.Time, body func(b *batch) error) error {
	b := &batch{known: &s.known}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b.tx = tx
		if err := tx.QueryRow(ctx, `SELECT seq FROM candle_head WHERE id = 1 FOR UPDATE`).Scan(&b.seq); err != nil {
			return fmt.Errorf("lock the head: %w", err)
		}
		start := b.seq
		if err := body(b); err != nil || b.seq == start {
			return err
		}
		return b.moveHead(ctx, now)
	})
	if err != nil {
		s.known.forget() // a restore may have taken series away
		return err
	}
	s.known.add(b.series)
	if b.analyze {
		s.stats.run(s)
	}
	return nil
}

// moveHead sets the head to b.seq, marks it as the head at now's minute
// (the retention's floor is read from these marks) and counts the new
// rows towards the next ANALYZE, which b.analyze says is due.
func (b *batch) moveHead(ctx context.Context, now time.Time) error {
	var grown, analyzed int64
	err := b.tx.QueryRow(ctx, `WITH h AS (UPDATE candle_head SET seq = $1, grown = grown + $3 WHERE id = 1
			RETURNING grown, analyzed),
		m AS (INSERT INTO head_marks (minute, seq) VALUES ($2, $1) ON CONFLICT (minute) DO UPDATE SET seq = excluded.seq)
		SELECT grown, analyzed FROM h`,
		b.seq, now.Truncate(time.Minute).UnixMilli(), b.added).Scan(&grown, &analyzed)
	if err != nil {
		return fmt.Errorf("move the head: %w", err)
	}
	if b.analyze = due(grown, analyzed); b.analyze {
		if _, err := b.tx.Exec(ctx, `UPDATE candle_head SET analyzed = analyzed + grown, grown = 0 WHERE id = 1`); err != nil {
			return fmt.Errorf("count the rows to analyse: %w", err)
		}
	}
	return nil
}

// merge merges cs against the stored rows (store.Apply) and writes the
// changed ones, numbering them after b.seq and counting new bins.
func (b *batch) merge(ctx context.Context, cs []market.Candle, now time.Time) (store.Result, error) {
	have, err := b.stored(ctx, cs)
	if err != nil {
		return store.Result{}, err
	}
	pw := newPending(len(cs))
	get := func(k market.Key) (*market.Candle, error) { return have[k], nil }
	put := func(c market.Candle) error {
		k := c.Key()
		if have[k] == nil {
			b.added++
		}
		have[k] = pw.add(c, have[k] == nil) // a later row of the same bin merges with this one
		return nil
	}
	r, err := store.Apply(cs, now, &b.seq, get, put)
	if err != nil {
		return store.Result{}, err
	}
	return r, pw.write(ctx, b.tx)
}

// stored reads the stored rows of the bins in cs, in one statement, after
// adding the series cs name that the store may not have.
func (b *batch) stored(ctx context.Context, cs []market.Candle) (map[market.Key]*market.Candle, error) {
	n := len(cs)
	vs, ss, is, ts := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]int64, 0, n)
	for _, c := range cs {
		vs, ss, is, ts = append(vs, c.Market.Venue), append(ss, c.Market.Symbol), append(is, string(c.Interval)), append(ts, c.OpenTime)
	}
	if err := b.ensure(ctx, cs); err != nil {
		return nil, err
	}
	rows, err := collect(ctx, b.tx, "stored rows", `SELECT `+cols+`
		FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])) AS k(v, s, i, t)
		JOIN series sr ON sr.venue = k.v AND sr.symbol = k.s AND sr.interval = k.i
		JOIN candles c ON c.series = sr.id AND c.open_time = k.t`, vs, ss, is, ts)
	if err != nil {
		return nil, err
	}
	have := make(map[market.Key]*market.Candle, n)
	for i := range rows {
		have[rows[i].Key()] = &rows[i]
	}
	return have, nil
}

// ensure adds the series of cs this process has not seen stored.
func (b *batch) ensure(ctx context.Context, cs []market.Candle) error {
	var vs, ss, is []string
	seen := map[market.Series]bool{}
	for _, c := range cs {
		sr := market.SeriesOf(c)
		if seen[sr] || b.known.has(sr) {
			continue
		}
		seen[sr] = true
		vs, ss, is = append(vs, sr.Market.Venue), append(ss, sr.Market.Symbol), append(is, string(sr.Interval))
		b.series = append(b.series, sr)
	}
	if len(vs) == 0 {
		return nil
	}
	_, err := b.tx.Exec(ctx, `INSERT INTO series (venue, symbol, interval)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, vs, ss, is)
	if err != nil {
		return fmt.Errorf("add %d series: %w", len(vs), err)
	}
	return nil
}

// seriesSet are the series a store has seen committed: their rows exist,
// so a write need not add them.
type seriesSet struct {
	mu  sync.Mutex
	set map[market.Series]bool
}

func (k *seriesSet) has(sr market.Series) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.set[sr]
}

func (k *seriesSet) add(srs []market.Series) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil {
		k.set = map[market.Series]bool{}
	}
	for _, sr := range srs {
		k.set[sr] = true
	}
}

func (k *seriesSet) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set = nil
}

// pending are the changed rows of a batch, one per bin (the last
// version), in the order first seen; fresh[i] says rows[i]'s bin was not
// stored before the transaction.
type pending struct {
	rows  []market.Candle
	fresh []bool
	at    map[market.Key]int
}

// newPending holds up to n rows.
func newPending(n int) *pending {
	return &pending{rows: make([]market.Candle, 0, n), fresh: make([]bool, 0, n), at: make(map[market.Key]int, n)}
}

// add queues c, as a new version of its bin when one is queued; isNew says
// its bin was not stored before the transaction. It returns the queued
// row, which stays put: rows never outgrows its capacity, one per bin.
func (p *pending) add(c market.Candle, isNew bool) *market.Candle {
	k := c.Key()
	i, ok := p.at[k]
	if ok {
		p.rows[i] = c
	} else {
		i, p.at[k] = len(p.rows), len(p.rows)
		p.rows, p.fresh = append(p.rows, c), append(p.fresh, isNew)
	}
	return &p.rows[i]
}

// rowsFrom is a batch of rows given as column arrays (columns).
const rowsFrom = `unnest($1::text[], $2::text[], $3::text[], $4::bigint[],
		string_to_array($5, ','), string_to_array($6, ','), string_to_array($7, ','), string_to_array($8, ','),
		string_to_array($9, ','), string_to_array($10, ','),
		$11::bigint[], $12::smallint[], $13::bigint[], $14::text[], $15::bigint[], $16::bigint[])
		AS u(v, s, i, t, o, h, l, cl, vol, q, n, st, rev, src, up, seq)`

// seriesOfRows joins each row of rowsFrom to its series sr. A row whose
// series is missing is not written, and execRows says so.
const seriesOfRows = ` JOIN series sr ON sr.venue = u.v AND sr.symbol = u.s AND sr.interval = u.i`

// insertSQL writes new bins: a plain INSERT, which costs less than half of
// one with ON CONFLICT. The head lock keeps other writers out, and a bin
// inserted past it would fail the transaction on the primary key, not
// overwrite anything.
const insertSQL = `INSERT INTO candles (series, open_time, open, high, low, close, volume, quote, trades,
		state, rev, source, updated_at, seq)
	SELECT sr.id, t, o::numeric, h::numeric, l::numeric, cl::numeric, vol::numeric, q::numeric, n, st, rev, src, up, seq
	FROM ` + rowsFrom + seriesOfRows

// updateHead replaces stored bins, each only by a higher revision.
const updateHead = `UPDATE candles AS c SET open = u.o::numeric, high = u.h::numeric, low = u.l::numeric,
		close = u.cl::numeric, volume = u.vol::numeric, quote = u.q::numeric, trades = u.n, state = u.st, rev = u.rev,
		source = u.src, updated_at = u.up, seq = u.seq
	FROM ` + rowsFrom + seriesOfRows + `
	WHERE c.series = sr.id AND c.open_time = u.t AND c.rev < u.rev`

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
	var fresh, old columns
	for i := range p.rows {
		if p.fresh[i] {
			fresh.add(&p.rows[i])
		} else {
			old.add(&p.rows[i])
		}
	}
	if err := fresh.exec(ctx, tx, insertSQL); err != nil {
		return fmt.Errorf("insert %d rows: %w", fresh.n, err)
	}
	if err := old.exec(ctx, tx, updateSQL); err != nil {
		return fmt.Errorf("update %d rows: %w", old.n, err)
	}
	return nil
}

// columns are rows as the column arrays of rowsFrom. The decimals of a
// column travel as one comma-separated text (a decimal has no comma),
// written without a string per value.
type columns struct {
	n     int
	names [4][]string // venue symbol interval source
	dec   [6][]byte   // open high low close volume quote
	ints  [5][]int64  // open_time trades rev updated_at seq
	state []int16
}

func (cs *columns) add(c *market.Candle) {
	for i, s := range [...]string{c.Market.Venue, c.Market.Symbol, string(c.Interval), string(c.Source)} {
		cs.names[i] = append(cs.names[i], s)
	}
	for i, d := range [...]market.Decimal{c.Open, c.High, c.Low, c.Close, c.Volume, c.Quote} {
		if cs.n > 0 {
			cs.dec[i] = append(cs.dec[i], ',')
		}
		cs.dec[i], _ = d.AppendText(cs.dec[i]) // never fails
	}
	for i, v := range [...]int64{c.OpenTime, c.Trades, c.Rev, c.Updated, c.Seq} {
		cs.ints[i] = append(cs.ints[i], v)
	}
	cs.state = append(cs.state, int16(c.State))
	cs.n++
}

// exec runs q over the rows and checks it wrote each.
func (cs *columns) exec(ctx context.Context, tx pgx.Tx, q string) error {
	if cs.n == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, q, cs.names[0], cs.names[1], cs.names[2], cs.ints[0],
		string(cs.dec[0]), string(cs.dec[1]), string(cs.dec[2]), string(cs.dec[3]), string(cs.dec[4]), string(cs.dec[5]),
		cs.ints[1], cs.state, cs.ints[2], cs.names[3], cs.ints[3], cs.ints[4])
	if err != nil {
		return err
	}
	if got := tag.RowsAffected(); got != int64(cs.n) {
		return fmt.Errorf("%d of %d stored: %w", got, cs.n, ErrLostGuard)
	}
	return nil
}

// txReader reads candles inside a write transaction (store.Reader), so a
// derive sees the batch's own rows.
type txReader struct{ tx pgx.Tx }

func (r txReader) Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error) {
	return rangeOf(ctx, r.tx, m, iv, from, to, 1<<62)
}
