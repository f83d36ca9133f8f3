package bench

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer for several writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNATSServerStartedAgain: a NATS server that exits at start because
// its port was taken meanwhile (by another process's connection, say) is
// started again once the port is free, and JetStream comes up.
func TestNATSServerStartedAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("three nats-server processes")
	}
	bin, err := NATSServer("")
	if err != nil {
		if os.Getenv("CANDLEWIRE_REQUIRE_NATS_SERVER") != "" || os.Getenv("CANDLEWIRE_REQUIRE_TOOLS") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	var log lockedBuffer
	c := &natsCluster{bin: bin, dir: t.TempDir(), stderr: &log}
	for range 3 {
		a, err1 := freePort()
		b, err2 := freePort()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		c.clients, c.routes = append(c.clients, a), append(c.routes, "nats://"+b)
	}
	taken, err := net.Listen("tcp", c.clients[1])
	if err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(2*time.Second, func() { taken.Close() })
	defer release.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = c.startAll(ctx)
	defer c.killAll()
	if err != nil {
		t.Fatalf("startAll: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "nats-1 exited; starting it again") {
		t.Fatalf("the server whose port was taken was not started again:\n%s", log.String())
	}
}
