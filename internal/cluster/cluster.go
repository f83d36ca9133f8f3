package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/config"
)

// Conn is a node's connection to the cluster's NATS servers.
type Conn struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	Node     string // this node's name among the members
	Replicas int    // servers that keep each stream and bucket
}

// Connect connects to the servers of cfg, retrying for within when none
// answers; once connected the client reconnects on its own, forever.
func Connect(ctx context.Context, cfg config.Cluster, within time.Duration, log *slog.Logger) (*Conn, error) {
	host, _ := os.Hostname()
	host = strings.Map(nameRune, host)
	node := cmp.Or(cfg.Node, host[:min(len(host), 64)], "node")
	opts := natsOptions(cfg, node, log)
	urls := strings.Join(cfg.NATS, ",")
	deadline := time.Now().Add(within)
	for {
		nc, err := nats.Connect(urls, opts...)
		if err == nil {
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				return nil, fmt.Errorf("NATS JetStream: %w", err)
			}
			replicas := cmp.Or(cfg.Replicas, min(3, len(cfg.NATS)))
			return &Conn{NC: nc, JS: js, Node: node, Replicas: replicas}, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("NATS %s not reachable for %s: %w", urls, within, errors.Join(err, ctx.Err()))
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// natsOptions are the client's options: named for the node, reconnecting
// forever, logging to log, with cfg's credentials and TLS.
func natsOptions(cfg config.Cluster, node string, log *slog.Logger) []nats.Option {
	opts := []nats.Option{nats.Name("candlewire " + node), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted()) }),
		// The client's own errors (a slow subscriber's drops, a read
		// error) go to the node's log, not straight to stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Warn("NATS", "subject", sub.Subject, "err", err)
				return
			}
			log.Warn("NATS", "err", err)
		}),
	}
	if cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(cfg.Credentials))
	}
	if cfg.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.CA))
	}
	if cfg.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.Cert, cfg.TLS.Key))
	}
	return opts
}

// Close drains nothing: the node's parts have stopped by then.
func (c *Conn) Close() { c.NC.Close() }

// Connected reports whether the client is connected to a server now.
func (c *Conn) Connected() bool { return c.NC.IsConnected() }

// nameRune keeps the runes of a host name a node name may hold.
func nameRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
		return r
	}
	return '-'
}
