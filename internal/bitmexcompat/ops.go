package bitmexcompat

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/candlewire/candlewire/internal/exchange/bitmex/bitmexwire"
)

// Bounds on what a request brings back, whatever its size: one error per
// request naming at most maxNamed of its bad args, and an echo of the
// request of about maxEcho bytes, each string in it cut to maxEchoArg.
const (
	maxNamed   = 3
	maxEcho    = 1 << 10
	maxEchoArg = 64
)

// handle answers "ping" and the ops subscribe and unsubscribe.
func (rc *rtConn) handle(data []byte) error {
	if strings.TrimSpace(string(data)) == "ping" {
		return rc.send([]byte("pong"))
	}
	var req struct {
		Op   string          `json:"op"`
		Args json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return rc.fail("Unable to parse incoming data as JSON. Please see the documentation at https://www.bitmex.com/app/wsAPI.", nil)
	}
	args := bitmexwire.ParseArgs(req.Args)
	switch req.Op {
	case "subscribe":
		return rc.subscribe(args, opRequest(req.Op, args))
	case "unsubscribe":
		return rc.unsubscribe(args, opRequest(req.Op, args))
	}
	return rc.fail("Unknown or unsupported op: "+clip(req.Op), opRequest(req.Op, args))
}

// opRequest is the request as acks and errors echo it, {"args","op"},
// bounded: the args that fit in maxEcho, each cut to maxEchoArg, and
// "argsOmitted" counting the ones left out.
func opRequest(op string, args []string) json.RawMessage {
	req := struct {
		Args    []string `json:"args"`
		Op      string   `json:"op"`
		Omitted int      `json:"argsOmitted,omitempty"`
	}{Op: clip(op)}
	size := len(strconv.Quote(req.Op))
	for i, a := range args {
		a = clip(a)
		if size += len(strconv.Quote(a)) + 1; size > maxEcho {
			req.Omitted = len(args) - i
			break
		}
		req.Args = append(req.Args, a)
	}
	b, _ := json.Marshal(req)
	return b
}

// clip cuts s to at most maxEchoArg bytes, at a rune boundary, marking the
// cut with "…".
func clip(s string) string {
	if len(s) <= maxEchoArg {
		return s
	}
	n := maxEchoArg - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fail sends a BitMEX-shaped 400 error.
func (rc *rtConn) fail(msg string, request json.RawMessage) error {
	if request == nil {
		request = json.RawMessage("{}")
	}
	b, _ := json.Marshal(struct {
		Status  int             `json:"status"`
		Error   string          `json:"error"`
		Meta    struct{}        `json:"meta"`
		Request json.RawMessage `json:"request"`
	}{Status: 400, Error: msg, Request: request})
	return rc.send(b)
}

// failures gathers the messages of a request's bad args, for its one
// error: the first maxNamed, then how many more.
type failures struct {
	msgs []string
	n    int
}

func (f *failures) add(msg string) {
	if f.n++; len(f.msgs) < maxNamed {
		f.msgs = append(f.msgs, msg)
	}
}

// send sends the error, if there were failures.
func (f *failures) send(rc *rtConn, request json.RawMessage) error {
	if f.n == 0 {
		return nil
	}
	msg := strings.Join(f.msgs, "; ")
	if more := f.n - len(f.msgs); more > 0 {
		msg += fmt.Sprintf("; and %d more", more)
	}
	return rc.fail(msg, request)
}
