package replay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/candlewire/candlewire/internal/realdata"
	"github.com/candlewire/candlewire/internal/record"
)

func TestSessionsOfRealRecording(t *testing.T) {
	dir := realdata.Dir(t)
	lines, err := record.ReadFile(dir + "/BINANCE.ws.1.0")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := Sessions("b", lines)
	if err != nil || len(ss) != 1 || ss[0].Path != "/stream" || len(ss[0].Frames) != len(realdata.Received(t, "BINANCE.ws.1.0")) {
		t.Fatalf("%v %d sessions %+v", err, len(ss), ss[0].Path)
	}
	t.Logf("%d frames from %v to %v", len(ss[0].Frames), ss[0].Frames[0].At, ss[0].Frames[len(ss[0].Frames)-1].At)
}

// TestRecordThenReplay records a connection with record.Recorder, then
// serves the file: a client on the recorded path gets the received frames
// (not the sent ones) in order, at the recorded pace scaled by the speed,
// then a normal close, and the path has nothing left after it.
func TestRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	rec, err := record.New(record.Config{Dir: dir, Venue: "okx"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	c := rec.Open("wss://ws.okx.com:8443/ws/v5/public", t0)
	c.Sent(t0, []byte(`{"op":"subscribe"}`))
	for i := range 5 {
		c.Received(t0.Add(time.Duration(i)*100*time.Millisecond), []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	c.Close()
	lines, err := record.ReadFile(rec.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	ss, err := Sessions("f", lines)
	if err != nil || len(ss) != 1 || ss[0].Path != "/ws/v5/public" || len(ss[0].Frames) != 5 {
		t.Fatalf("%+v %v", ss, err)
	}
	srv := httptest.NewServer(New(Config{Speed: 4}, ss))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/v5/public"
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe"}`)) //nolint:errcheck // ignored by the replay
	start := time.Now()
	for i := range 5 {
		_, got, err := ws.Read(ctx)
		if err != nil || string(got) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("frame %d: %s %v", i, got, err)
		}
	}
	if el := time.Since(start); el < 80*time.Millisecond || el > 2*time.Second {
		t.Errorf("400 ms recorded at 4x took %s", el)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after the frames: %v, want a normal close", err)
	}
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second connect: %v, want 404", err)
	}
}
