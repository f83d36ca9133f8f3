package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/candlewire/candlewire/internal/hub"
)

// pollBatch is the most changes one long-poll response carries; the next
// request continues from its cursor.
const pollBatch = 1000

// servePoll is HTTP long polling: GET /v1/poll?streams=…&cursor=…&timeout=…
// answers as soon as anything newer than the cursor exists, or empty at the
// timeout (default 25s), always with the next cursor:
//
//	{"cursor":N,"candles":[{"type":"candle","stream":…,"cursor":…,"candle":{…}},…]}
//
// Without a cursor it answers at once with a snapshot of the newest
// ?snapshot= candles (default 1) of each stream and the cursor to poll on
// from.
func (a *API) servePoll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, resume, err1 := cursorParam("cursor", q.Get("cursor"))
	timeout, err2 := durationParam(q, "timeout", 25*time.Second, a.cfg.MaxPollTimeout)
	if err := errors.Join(err1, err2); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := a.openSubscription(w, r, since, resume)
	if f == nil {
		return
	}
	defer f.Close()
	body, n, err := pollBody(r, f)
	if err == nil && n == 0 && resume && f.resync == "" {
		t := time.NewTimer(timeout)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-f.sub.Ready():
		case <-f.sub.Done(): // shutting down: answer now
		case <-t.C:
		}
		t.Stop()
		body, n, err = pollBody(r, f)
	}
	if err != nil && !errors.Is(err, hub.ErrClosed) {
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body) //nolint:errcheck // the client went away
	a.met.sent("longpoll", n, len(body))
}

// pollBody takes the ready changes and renders the response.
func pollBody(r *http.Request, f *subscription) ([]byte, int, error) {
	b := []byte(`{"cursor":`)
	var items []byte
	n := 0
	var err error
	for ; n < pollBatch; n++ {
		var u *hub.Update
		if u, err = f.next(r.Context(), false); err != nil || u == nil {
			break
		}
		if n > 0 {
			items = append(items, ',')
		}
		items = appendMessage(items, u)
	}
	b = strconv.AppendInt(b, f.cursor(), 10)
	if f.resync != "" {
		reason, _ := json.Marshal(f.resync)
		b = append(append(b, `,"resync":`...), reason...)
	}
	b = append(b, `,"candles":[`...)
	b = append(b, items...)
	return append(b, "]}\n"...), n, err
}
