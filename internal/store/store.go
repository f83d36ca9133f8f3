package store

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/candlewire/candlewire/internal/market"
)

// Store is what one database keeps: candles with their change log, the
// gap ledger and upstream connect attempts. Each part is its own small
// interface, and every store (memory, SQLite) implements each.
type Store interface {
	Candles
	Ledger
	ConnectLog
	// Close releases the store.
	Close() error
}

// Candles stores candle versions and reads them back, by time and by the
// change log's sequence number (a client's cursor).
type Candles interface {
	// Upsert merges a batch of candle versions in one transaction. Rows that
	// are invalid or stale are skipped and counted in the Result; they never
	// fail the batch. The error is only for storage failures, in which case
	// nothing of the batch was written.
	Upsert(ctx context.Context, cs []market.Candle) (Result, error)
	// Write is Upsert followed, in the same transaction, by the rows derive
	// returns for the changed ones (their rollups): both are stored or
	// neither is, so a crash never leaves coarser bins behind their
	// constituents. derived says what the second part did; derive may be
	// nil.
	Write(ctx context.Context, cs []market.Candle, derive Derive) (res, derived Result, err error)
	// Unrolled returns the stored candles of m with open time >= from whose
	// coarser bin (see market.Interval.Parents) is missing or was last
	// stored before them: where a rollup may be stale, for example after a
	// crash of an older version between its two transactions. Rebuilding
	// their parents repairs it; a parent that was already right is then an
	// identical replay.
	Unrolled(ctx context.Context, m market.Market, from int64) ([]market.Candle, error)
	// Candles returns stored candles with from <= open time < to, oldest first.
	Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error)
	// Page returns at most limit stored candles with from <= open time < to,
	// oldest first; read the next page from the last open time plus the
	// interval.
	Page(ctx context.Context, m market.Market, iv market.Interval, from, to int64, limit int) ([]market.Candle, error)
	// Since returns at most limit candles of the given series whose current
	// revision was stored after sequence number after, in sequence order:
	// what a client of those streams missed since its cursor.
	Since(ctx context.Context, series []market.Series, after int64, limit int) ([]market.Candle, error)
	// Latest returns the newest n candles, oldest first.
	Latest(ctx context.Context, m market.Market, iv market.Interval, n int) ([]market.Candle, error)
	// Before returns the newest n candles with open time < to, oldest first.
	Before(ctx context.Context, m market.Market, iv market.Interval, to int64, n int) ([]market.Candle, error)
	// Head returns the newest sequence number stored; with nothing stored,
	// the epoch's first, Epoch() << EpochShift.
	Head(ctx context.Context) (int64, error)
	// Epoch names this change log, up to MaxEpoch. Sequence numbers carry
	// it in their bits from EpochShift up, so a cursor of another epoch
	// (from a log since restored, truncated or replaced) is known for what
	// it is, and its client resyncs. A store numbered before epochs has
	// epoch 0.
	Epoch() int64
	// Window is the cursors the change log resumes from: floor up to head.
	// A cursor below floor is older than the log keeps (its retention).
	Window(ctx context.Context) (floor, head int64, err error)
	// LastReconciled returns the open time of the newest reconciled candle.
	LastReconciled(ctx context.Context, m market.Market, iv market.Interval) (int64, bool, error)
}

// Ledger is the gap ledger: every gap found, and how its repair ended.
type Ledger interface {
	// AddGap records a newly found gap and returns it with its ID set.
	AddGap(ctx context.Context, g Gap) (Gap, error)
	// UpdateGap stores the new status of a gap found earlier.
	UpdateGap(ctx context.Context, g Gap) error
	// Gaps lists ledger entries of a market that overlap [from, to), oldest first.
	Gaps(ctx context.Context, m market.Market, from, to int64) ([]Gap, error)
}

// ConnectLog keeps upstream connect attempts (upstream.ConnectLog).
type ConnectLog interface {
	// AddConnect records an upstream connect attempt, so connect budgets
	// hold across restarts; attempts older than KeepConnects are forgotten.
	AddConnect(ctx context.Context, venue string, at time.Time) error
	// Connects returns the venue's attempts at or after since, oldest first.
	Connects(ctx context.Context, venue string, since time.Time) ([]time.Time, error)
}

// Reader reads stored candles with from <= open time < to, oldest first.
type Reader interface {
	Candles(ctx context.Context, m market.Market, iv market.Interval, from, to int64) ([]market.Candle, error)
}

// Derive returns the rows that follow from a batch's changed rows (their
// rollups, candle.Rollup). It reads the store through r, which sees the
// batch's own changes.
type Derive func(ctx context.Context, r Reader, changed []market.Candle) ([]market.Candle, error)

// Result says what an Upsert did.
type Result struct {
	Changed   []market.Candle // inserted or updated rows, with their new revision
	Unchanged int             // identical replays
	Stale     int             // older lifecycle state than stored
	Invalid   []error         // rows rejected by validation
}

// GapStatus is where a gap is in the ledger.
type GapStatus string

// Gap statuses.
const (
	GapFound      GapStatus = "found"      // detected, repair pending
	GapFilled     GapStatus = "filled"     // every minute fetched and stored
	GapPartial    GapStatus = "partial"    // some minutes had no data at the venue
	GapUnfillable GapStatus = "unfillable" // the venue returned nothing or kept failing
)

// Gap is one ledger entry: a run of missing 1-minute bins [From, To).
type Gap struct {
	ID       int64
	Market   market.Market
	From, To int64 // open times, UTC ms, [From, To)
	Reason   string
	Status   GapStatus
	Filled   int   // minutes stored by the repair
	Found    int64 // wall-clock ms
	Resolved int64 // wall-clock ms; 0 while found
	Detail   string
}

// Minutes is the number of 1-minute bins in the gap.
func (g Gap) Minutes() int { return int((g.To - g.From) / market.I1m.Millis()) }

// Apply merges a batch against a lookup of stored rows, the logic every
// implementation shares. get returns the stored row; put is called for each
// row that must be written, with the next sequence number after *seq (which
// it advances; callers keep it only when the batch commits).
func Apply(cs []market.Candle, now time.Time, seq *int64, get func(market.Key) (*market.Candle, error), put func(market.Candle) error) (Result, error) {
	r := Result{Changed: make([]market.Candle, 0, len(cs))}
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			r.Invalid = append(r.Invalid, err)
			continue
		}
		old, err := get(c.Key())
		if err != nil {
			return Result{}, err
		}
		c.Updated = now.UnixMilli()
		out, outcome := market.Merge(old, c)
		switch outcome {
		case market.Unchanged:
			r.Unchanged++
			continue
		case market.Stale:
			r.Stale++
			continue
		}
		*seq++
		out.Seq = *seq
		if err := put(out); err != nil {
			return Result{}, err
		}
		r.Changed = append(r.Changed, out)
	}
	return r, nil
}

// MaxEpoch is the highest epoch. A client's cursor carries the epoch in
// its bits from EpochShift up, and stays below 2^53, an integer every
// JSON reader (JavaScript's numbers) holds exactly.
const (
	MaxEpoch   = 1<<13 - 1
	EpochShift = 40
)

// NewEpoch is a random epoch other than old (0 for none), drawn from the
// lower half, so that a store's epoch has room to move up (a PostgreSQL
// store starts a higher one when it finds itself restored).
func NewEpoch(old int64) int64 {
	for {
		if e := 1 + rand.Int64N(MaxEpoch/2); e != old {
			return e
		}
	}
}

// Connect is one upstream connect attempt (ConnectLog), as a store
// copies it to another (candlewire migrate).
type Connect struct {
	Venue string
	At    time.Time
}

// ByParent runs find for every interval and each of its coarser intervals
// (market.Interval.Parents) and returns what it found, each bin once: how
// a database store answers Unrolled, one indexed query per pair.
func ByParent(find func(iv, parent market.Interval) ([]market.Candle, error)) ([]market.Candle, error) {
	seen := map[market.Key]bool{}
	var out []market.Candle
	for _, iv := range market.Intervals {
		for _, p := range iv.Parents() {
			cs, err := find(iv, p)
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				if !seen[c.Key()] {
					seen[c.Key()] = true
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}
