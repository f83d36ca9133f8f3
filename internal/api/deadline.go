package api

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// Plain HTTP responses are written under a deadline: each piece of at most
// writeChunk bytes, each flush, and what the server still has buffered when
// the handler returns must be taken by the client within writeTimeout, or
// the connection is closed and the handler's writes fail. A client that
// does not read cannot hold a handler (http.Server.WriteTimeout cannot do
// this: it would cut long polls and event streams off).
const (
	writeTimeout = 10 * time.Second
	writeChunk   = 64 << 10
)

// boundWrites serves r with its response writes bounded. The deadline is
// armed when writing starts, not when the request arrives, so a long poll
// may wait as long as it likes before answering; an SSE stream re-arms it
// at every flush. A connection a WebSocket takes over (Hijack) is left to
// the WebSocket, which bounds its own writes; a request's headers alone
// never lift the deadline.
func boundWrites(h http.Handler, w http.ResponseWriter, r *http.Request) {
	bw := &boundedWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
	h.ServeHTTP(bw, r)
	if !bw.hijacked {
		bw.arm() // for what the server writes after the handler returns
	}
}

// boundedWriter arms the connection's write deadline before every write
// and flush. http.NewResponseController reaches the server's writer
// through Unwrap, so handlers may still set deadlines of their own.
type boundedWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	hijacked bool
}

// Hijack hands the connection to a WebSocket, without a deadline (an
// earlier response on the connection may have left one).
func (w *boundedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, rw, err := w.rc.Hijack()
	if err == nil {
		w.hijacked = true
		nc.SetWriteDeadline(time.Time{}) //nolint:errcheck // a conn that cannot have one has none
	}
	return nc, rw, err
}

func (w *boundedWriter) arm() {
	w.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) //nolint:errcheck // not every connection supports deadlines
}

// Write writes b in pieces of at most writeChunk bytes, each under its own
// deadline: a slow client that keeps reading gets a large response whole.
func (w *boundedWriter) Write(b []byte) (int, error) {
	n := 0
	for {
		w.arm()
		k, err := w.ResponseWriter.Write(b[n : n+min(len(b)-n, writeChunk)])
		if n += k; err != nil || n == len(b) {
			return n, err
		}
	}
}

// FlushError sends what is buffered, under the deadline; it is what
// http.ResponseController.Flush calls.
func (w *boundedWriter) FlushError() error {
	w.arm()
	return w.rc.Flush()
}

// Flush is FlushError for http.Flusher.
func (w *boundedWriter) Flush() { w.FlushError() } //nolint:errcheck // a failed flush fails the next write

// Unwrap is the server's writer, for http.ResponseController.
func (w *boundedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
