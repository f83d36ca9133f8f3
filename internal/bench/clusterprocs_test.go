package bench

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

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
	log, err := os.CreateTemp(t.TempDir(), "stderr") // written by the servers' processes too
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	said := func() string { b, _ := os.ReadFile(log.Name()); return string(b) }
	c := &natsCluster{bin: bin, dir: t.TempDir(), stderr: log}
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
		t.Fatalf("startAll: %v\n%s", err, said())
	}
	if !strings.Contains(said(), "nats-1 exited; starting it again") {
		t.Fatalf("the server whose port was taken was not started again:\n%s", said())
	}
}
