package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/candlewire/candlewire/internal/market"
)

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
	if err := fresh.exec(ctx, tx, insertSQL, errSeriesGone); err != nil {
		return fmt.Errorf("insert %d rows: %w", fresh.n, err)
	}
	if err := old.exec(ctx, tx, updateSQL, ErrLostGuard); err != nil {
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

// exec runs q over the rows and checks it wrote each; short is the error
// when it did not.
func (cs *columns) exec(ctx context.Context, tx pgx.Tx, q string, short error) error {
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
		return fmt.Errorf("%d of %d stored: %w", got, cs.n, short)
	}
	return nil
}
