package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/candlewire/candlewire/internal/cluster"
	"github.com/candlewire/candlewire/internal/config"
)

const clusterUsage = `usage: candlewire cluster status|drain NODE|undrain NODE [--nats URL,...] [--config FILE]

  status        the collectors (markets owned and standing by), drained nodes and the relay's holder
  drain NODE    move NODE's markets to the other collectors (before maintenance); it stays drained
  undrain NODE  give NODE markets again
`

// clusterCmd is `candlewire cluster`: status, drain and undrain.
func clusterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, clusterUsage)
		return fmt.Errorf("%w: cluster needs status, drain or undrain", errUsage)
	}
	verb := args[0]
	fs := newFlags("cluster "+verb, stderr)
	nats := fs.String("nats", "", "the cluster's NATS servers, comma-separated (default: the config's cluster.nats)")
	cfgPath := fs.String("config", "", "YAML config file with the cluster section")
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	var node string
	switch {
	case verb == "status" && len(rest) == 0:
	case (verb == "drain" || verb == "undrain") && len(rest) == 1:
		node = rest[0]
		if err := (config.Cluster{NATS: []string{"nats://x:1"}, Node: node}).Check(); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	default:
		fmt.Fprint(stderr, clusterUsage)
		return fmt.Errorf("%w: cluster %v", errUsage, args)
	}
	cfg, err := config.Load(*cfgPath) // the file if named, and CANDLEWIRE_* over it
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cc := cfg.Cluster
	if err := clusterFlags(&cc, *nats, ""); err != nil {
		return err
	}
	if !cc.On() {
		return fmt.Errorf("%w: name the cluster's NATS servers (--nats, $CANDLEWIRE_CLUSTER_NATS or the config's cluster.nats)", errUsage)
	}
	conn, err := cluster.Connect(ctx, cc, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer conn.Close()
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	members, drain, err := cluster.OpenBuckets(bctx, conn)
	if err != nil {
		return err
	}
	switch verb {
	case "drain":
		err = retry(bctx, func() error {
			_, err := drain.Put(bctx, node, []byte(time.Now().UTC().Format(time.RFC3339)))
			return err
		})
		if err == nil {
			fmt.Fprintf(stdout, "%s drained: its markets move to the other collectors within seconds\n", node)
		}
	case "undrain":
		err = retry(bctx, func() error { return drain.Delete(bctx, node) })
		if err == nil {
			fmt.Fprintf(stdout, "%s undrained: it takes its share of markets again\n", node)
		}
	default:
		err = printStatus(bctx, stdout, conn, members, drain)
	}
	if err != nil {
		return fmt.Errorf("cluster %s: %w", verb, err)
	}
	return nil
}

// retry runs op until it succeeds or ctx ends (JetStream may be electing
// a leader).
func retry(ctx context.Context, op func() error) error {
	for {
		err := op()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// printStatus prints the members, the drained nodes and the relay's
// lease holder.
func printStatus(ctx context.Context, w io.Writer, conn *cluster.Conn, members, drain jetstream.KeyValue) error {
	var ms []cluster.Member
	lister, err := members.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list the members: %w", err)
	}
	for k := range lister.Keys() {
		e, err := members.Get(ctx, k)
		if err != nil {
			continue // left meanwhile
		}
		var m cluster.Member
		if json.Unmarshal(e.Value(), &m) == nil {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Node < ms[j].Node })
	drained := map[string]bool{}
	if l, err := drain.ListKeys(ctx); err == nil {
		for k := range l.Keys() {
			drained[k] = true
		}
	}
	holder := "(none)"
	if kv, err := conn.JS.KeyValue(ctx, cluster.LeaseBucket); err == nil {
		if e, err := kv.Get(ctx, "relay"); err == nil {
			holder = string(e.Value())
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("read the relay's lease: %w", err)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTOR\tOWNED\tSTANDBY\tMARKETS\tUP\tDRAINED")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%v\n", m.Node, m.Owned, m.Standby, m.Markets,
			time.Since(m.Started).Truncate(time.Second), drained[m.Node])
	}
	tw.Flush()
	fmt.Fprintf(w, "relay: %s\n", holder)
	for n := range drained {
		if !slices.ContainsFunc(ms, func(m cluster.Member) bool { return m.Node == n }) {
			fmt.Fprintf(w, "drained, not running: %s\n", n)
		}
	}
	return nil
}
