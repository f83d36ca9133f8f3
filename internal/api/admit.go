package api

import (
	"net/http"
	"sync"
)

// Admit counts a streaming connection served outside the API (the
// BitMEX-compatible /realtime) against the per-IP limit it shares with
// /v1/ws, /v1/sse and /v1/poll (Config.MaxConnsPerIP). ok is false over
// the limit: answer 429. Call release, once or more, when the connection
// ends.
func (a *API) Admit(r *http.Request) (release func(), ok bool) {
	free, ok := a.guard.stream(r)
	if !ok {
		a.met.rejected("realtime", "per-ip-limit")
		return nil, false
	}
	a.met.open("realtime", 1)
	var once sync.Once
	return func() {
		once.Do(func() {
			free()
			a.met.open("realtime", -1)
		})
	}, true
}
