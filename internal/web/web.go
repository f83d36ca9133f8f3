package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static/index.html all:dist
var files embed.FS

// notBuilt is served at / when the bundle is missing.
const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>candlewire</title></head>
<body style="font: 16px system-ui, sans-serif; margin: 3em">
<h1>candlewire</h1>
<p>The chart page was not built into this binary. Build it and run again:</p>
<pre>./scripts/build-web        # npm ci &amp;&amp; npm run build in web/
go run ./cmd/candlewire run --sim</pre>
<p>Everything else is served: <a href="/v1/candles?market=binance:BTCUSDT">/v1/candles</a>,
/v1/ws, /v1/sse, /v1/poll, /realtime, <a href="/metrics">/metrics</a>.</p>
</body></html>
`

// Built reports whether the page's bundle is embedded.
func Built() bool {
	_, err := fs.Stat(files, "dist/app.js")
	return err == nil
}

// Register mounts GET / and GET /app.js on mux.
func Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		if !Built() {
			w.Write([]byte(notBuilt)) //nolint:errcheck // the client went away
			return
		}
		http.ServeFileFS(w, r, files, "static/index.html")
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		if !Built() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, files, "dist/app.js")
	})
}
