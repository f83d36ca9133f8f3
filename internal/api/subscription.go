package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/store"
)

// pageSize is how many changes of one stream are read from the store at a
// time while a client catches up.
const pageSize = 500

// maxSnapshot bounds the candles sent on subscribe.
const maxSnapshot = 1000

// subscription is one client's view of its streams: their snapshots and what it
// missed, read from the store a page at a time as the client takes them,
// then live changes from its hub subscription. Changes are delivered in
// sequence order and each at most once per stream, so the sequence number
// of the last change received is the client's cursor.
type subscription struct {
	// What every delivery reads comes first, together.
	sub     *hub.Sub
	only    *streamState // the one stream's state when there is one: no map lookup per change
	onlyKey hub.Stream
	backlog []item       // a page read from the store; delivered up to taken
	taken   int          // backlog entries delivered (and cleared)
	snaps   []snapWant   // snapshots still to read, one stream a page
	reading []hub.Stream // streams still catching up from the store
	last    int64        // the cursor: every change up to it was delivered (or skipped as stale)
	first   streamState  // the state of the first stream added, kept in place

	st       store.Candles
	streams  map[hub.Stream]*streamState
	readFrom int64  // the store is read after this sequence number
	resync   string // why the client's cursor could not resume, when it could not: it gets snapshots
	noReads  bool   // next returns errWouldRead rather than read the store (a step that must not wait)
}

// errWouldRead is next's answer, under noReads, when the next change must
// be read from the store.
var errWouldRead = errors.New("the next change is in the store")

// snapWant is a stream's snapshot still to read: its newest n candles.
type snapWant struct {
	s hub.Stream
	n int
}

// item is a change read from the store; snap marks a snapshot row, sent
// whatever the cursor.
type item struct {
	u    *hub.Update
	snap bool
}

// streamState is where a stream's client is.
type streamState struct {
	after int64           // sequence number of the last change delivered
	snap  map[int64]int64 // snapshot rows newer than after (open time → seq), not to repeat; nil when none is
	top   int64           // the newest seq in snap
}

// openSubscription opens a request's subscription to its ?streams=: resuming after since
// when resume is set, else starting with a ?snapshot= (default 1). On a
// bad request it answers the request itself and returns nil.
func (a *API) openSubscription(w http.ResponseWriter, r *http.Request, since int64, resume bool) *subscription {
	q := r.URL.Query()
	streams, err := a.streamsParam(q)
	snap, err2 := intParam(q, "snapshot", 1, 0, maxSnapshot)
	if err = errors.Join(err, err2); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	f := newSubscription(a.cfg.Store, a.cfg.Hub)
	err = f.open(r.Context(), streams, since, resume, snap)
	if err != nil {
		f.Close()
		httpError(w, statusOf(err), err.Error())
		return nil
	}
	return f
}

// open adds streams, resuming after since when resume is set, else with
// snapshots of n candles; a cursor the change log cannot resume from gets
// the snapshots, and the subscription says why (resync).
func (f *subscription) open(ctx context.Context, streams []hub.Stream, since int64, resume bool, n int) error {
	if !resume {
		return f.snapshot(ctx, streams, n)
	}
	err := f.resume(ctx, streams, since)
	if stale, ok := errors.AsType[*staleError](err); ok {
		f.resync = stale.reason
		return f.snapshot(ctx, streams, n)
	}
	return err
}

// newSubscription subscribes to nothing yet; add streams with resume or snapshot.
func newSubscription(st store.Candles, h *hub.Hub) *subscription {
	f := new(subscription)
	f.init(st, h.Subscribe())
	return f
}

// init makes f, a subscription held in place (a session's field), of
// sub, which subscribes to nothing yet.
func (f *subscription) init(st store.Candles, sub *hub.Sub) {
	*f = subscription{st: st, sub: sub, streams: map[hub.Stream]*streamState{}}
}

// newState is the state of a stream being added, after the cursor after.
// The first stream's is kept in f itself.
func (f *subscription) newState(after int64) *streamState {
	if len(f.streams) == 0 { // (nothing refers to first)
		f.first = streamState{after: after}
		return &f.first
	}
	return &streamState{after: after}
}

// Close ends the hub subscription.
func (f *subscription) Close() { f.sub.Close() }

// resume adds streams whose client has seen every change up to since: it
// gets every bin changed after since, from the store, then live changes.
// A since beyond the store's head is an *aheadError.
func (f *subscription) resume(ctx context.Context, streams []hub.Stream, since int64) error {
	if err := checkCursor(ctx, f.st, since); err != nil {
		return err
	}
	add := f.newOnly(streams)
	f.sub.Add(add...) // before reading, so nothing falls between
	if len(f.reading) == 0 || since < f.readFrom {
		f.readFrom = since
	}
	if len(f.streams) == 0 {
		f.last = since
	}
	for _, s := range add {
		f.streams[s] = f.newState(since)
		f.reading = append(f.reading, s)
	}
	f.reindex()
	return nil
}

// reindex notes the lone stream, if there is one.
func (f *subscription) reindex() {
	f.only = nil
	if len(f.streams) == 1 {
		for k, ss := range f.streams {
			f.only, f.onlyKey = ss, k
		}
	}
}

// snapshot adds streams starting with their newest n candles, then live
// changes. The candles are read as the client takes them, one stream at a
// time, before any live change.
func (f *subscription) snapshot(ctx context.Context, streams []hub.Stream, n int) error {
	add := f.newOnly(streams)
	f.sub.Add(add...)
	head, err := f.st.Head(ctx)
	if err != nil {
		f.sub.Remove(add...)
		return fmt.Errorf("read the store's head: %w", err)
	}
	if len(f.streams) == 0 {
		f.last = head
	}
	n = min(max(n, 0), maxSnapshot)
	for _, s := range add {
		f.streams[s] = f.newState(head)
		if n > 0 {
			f.snaps = append(f.snaps, snapWant{s, n})
		}
	}
	f.reindex()
	return nil
}

// newOnly returns the streams the subscription does not have yet.
func (f *subscription) newOnly(streams []hub.Stream) []hub.Stream {
	var out []hub.Stream
	for _, s := range streams {
		if _, ok := f.streams[s]; !ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// remove drops streams.
func (f *subscription) remove(streams []hub.Stream) {
	f.sub.Remove(streams...)
	for _, s := range streams {
		delete(f.streams, s)
	}
	f.reindex()
	f.reading = slices.DeleteFunc(f.reading, func(s hub.Stream) bool { return f.streams[s] == nil })
	f.snaps = slices.DeleteFunc(f.snaps, func(w snapWant) bool { return f.streams[w.s] == nil })
}

// next returns the next change. With wait false it returns nil, nil when
// nothing is ready.
func (f *subscription) next(ctx context.Context, wait bool) (*hub.Update, error) {
	for {
		if f.noReads && f.readsStore() {
			return nil, errWouldRead
		}
		if err := f.fill(ctx); err != nil {
			return nil, err
		}
		var u *hub.Update
		switch {
		case f.taken < len(f.backlog):
			it := f.take()
			if it.snap {
				return it.u, nil
			}
			u = it.u
		case wait:
			var err error
			if u, err = f.sub.Next(ctx); err != nil {
				return nil, err
			}
		default:
			var err error
			if u, err = f.sub.TryNext(); u == nil {
				return nil, err
			}
		}
		if f.deliver(u) {
			return u, nil
		}
	}
}

// deliver reports whether u is new to the client, and records it.
func (f *subscription) deliver(u *hub.Update) bool {
	ss := f.only
	if ss != nil && u.Stream == f.onlyKey {
		f.onlyKey = u.Stream // the update's own strings, which the next compare finds the same at once
	} else {
		ss = f.streams[u.Stream]
	}
	if ss == nil {
		return false
	}
	if ss.snap != nil {
		if seq, ok := ss.snap[u.Candle.OpenTime]; ok && seq >= u.Candle.Seq {
			return false // the snapshot had this revision or a newer one
		}
	}
	if u.Candle.Seq <= ss.after {
		return false
	}
	ss.after = u.Candle.Seq
	if ss.snap != nil && ss.after >= ss.top {
		ss.snap = nil // every later change is newer than every snapshot row
	}
	f.last = max(f.last, u.Candle.Seq)
	return true
}

// readsStore reports whether the next delivery reads the store (a
// snapshot or a page of changes to catch up on): a wait of its own.
func (f *subscription) readsStore() bool {
	return f.taken == len(f.backlog) && (len(f.snaps) > 0 || len(f.reading) > 0)
}

// take removes the next backlog entry, leaving nothing delivered referenced.
func (f *subscription) take() item {
	it := f.backlog[f.taken]
	f.backlog[f.taken] = item{}
	if f.taken++; f.taken == len(f.backlog) {
		f.backlog, f.taken = f.backlog[:0], 0
	}
	return it
}

// cursor is where the client resumes from: every change up to it has been
// delivered.
func (f *subscription) cursor() int64 { return f.last }

// fill reads the next page when the last is delivered: a stream's
// snapshot, or else the next changes of the streams still catching up, all
// at once and in sequence order, so a client's cursor never passes a
// change it has not received.
func (f *subscription) fill(ctx context.Context) error {
	for len(f.backlog) == 0 && len(f.snaps) > 0 {
		if err := f.fillSnapshot(ctx); err != nil {
			return err
		}
	}
	if len(f.backlog) > 0 || len(f.reading) == 0 {
		return nil
	}
	cs, err := f.st.Since(ctx, f.reading, f.readFrom, pageSize)
	if err != nil {
		return fmt.Errorf("read changes after %d: %w", f.readFrom, err)
	}
	for _, c := range cs {
		f.backlog = append(f.backlog, item{u: hub.NewUpdate(c)})
		f.readFrom = c.Seq
	}
	if len(cs) < pageSize {
		f.reading = nil // caught up: the hub has everything after this
	}
	return nil
}

// fillSnapshot reads the next stream's snapshot. Rows stored after the
// stream was added are noted, so their live copies are not repeated.
func (f *subscription) fillSnapshot(ctx context.Context) error {
	w := f.snaps[0]
	f.snaps = f.snaps[1:]
	ss := f.streams[w.s]
	cs, err := f.st.Latest(ctx, w.s.Market, w.s.Interval, w.n)
	if err != nil {
		return fmt.Errorf("read the snapshot of %s: %w", w.s, err)
	}
	for _, c := range cs {
		f.backlog = append(f.backlog, item{hub.NewUpdate(c), true})
		if c.Seq > ss.after {
			if ss.snap == nil {
				ss.snap = map[int64]int64{}
			}
			ss.snap[c.OpenTime] = c.Seq
			ss.top = max(ss.top, c.Seq)
		}
	}
	return nil
}

// appendMessage appends the wire form of an update:
// {"type":"candle","stream":"…","cursor":N,"candle":{…}}.
func appendMessage(b []byte, u *hub.Update) []byte {
	b = append(b, `{"type":"candle","stream":"`...)
	b = append(b, u.Stream.String()...)
	b = append(b, `","cursor":`...)
	b = strconv.AppendInt(b, u.Candle.Seq, 10)
	b = append(b, `,"candle":`...)
	b = append(b, u.JSON...)
	return append(b, '}')
}
