package bitmexcompat

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/candlewire/candlewire/internal/hub"
	"github.com/candlewire/candlewire/internal/market"
)

// types are the column types BitMEX lists in a partial.
var types = map[string]string{
	"trade": `{"timestamp":"timestamp","symbol":"symbol","side":"symbol","size":"long","price":"float","tickDirection":"symbol","trdMatchID":"guid","grossValue":"long","homeNotional":"float","foreignNotional":"float","trdType":"symbol"}`,
	"bin":   `{"timestamp":"timestamp","symbol":"symbol","open":"float","high":"float","low":"float","close":"float","trades":"long","volume":"long","vwap":"float","lastSize":"long","turnover":"long","homeNotional":"float","foreignNotional":"float"}`,
}

// subscribe acks each topic and sends its partial, or a 400 for a topic
// it cannot serve.
func (rc *rtConn) subscribe(ctx context.Context, args []string, request json.RawMessage) error {
	if len(args) == 0 {
		return rc.fail(ctx, "No args given for subscribe", request)
	}
	for _, arg := range args {
		t, m, msg := rc.resolve(arg)
		if msg == "" && len(rc.topics) >= maxTopics {
			msg = fmt.Sprintf("Too many subscriptions (at most %d)", maxTopics)
		}
		if msg != "" {
			if err := rc.fail(ctx, msg, request); err != nil {
				return err
			}
			continue
		}
		if _, dup := rc.topics[t]; dup {
			if err := rc.fail(ctx, "You are already subscribed to this topic: "+t.String(), request); err != nil {
				return err
			}
			continue
		}
		rc.topics[t] = m
		partial, err := rc.partial(ctx, t, m)
		if err != nil {
			delete(rc.topics, t)
			return rc.fail(ctx, "Store unavailable: "+err.Error(), request)
		}
		ack := fmt.Sprintf(`{"success":true,"subscribe":%q,"request":%s}`, t.String(), request)
		if err := rc.send(ctx, []byte(ack)); err != nil {
			return err
		}
		if err := rc.send(ctx, partial); err != nil {
			return err
		}
	}
	return nil
}

// resolve reads table:SYMBOL; msg is BitMEX's error message, "" if none.
func (rc *rtConn) resolve(arg string) (t topic, m market.Market, msg string) {
	table, symbol, _ := strings.Cut(strings.TrimSpace(arg), ":")
	if _, ok := binTables[table]; !ok && table != "trade" {
		return topic{}, market.Market{}, "Unknown table: " + table
	}
	if symbol == "" {
		return topic{}, market.Market{}, fmt.Sprintf("Subscribing to all of %s is not supported; subscribe to %s:SYMBOL", table, table)
	}
	m, msg = rc.s.lookup(symbol)
	return topic{table, strings.ToUpper(symbol)}, m, msg
}

// partial is the table's image: the newest final bin, or (for trade) no
// rows, as candlewire keeps no trade history.
func (rc *rtConn) partial(ctx context.Context, t topic, m market.Market) ([]byte, error) {
	kind, data := "trade", []byte("[")
	if iv, ok := binTables[t.table]; ok {
		kind = "bin"
		rc.sub.Add(hub.Stream{Market: m, Interval: iv})
		cs, err := rc.s.cfg.Store.Latest(ctx, m, iv, 3)
		if err != nil {
			return nil, err
		}
		for i := len(cs) - 1; i >= 0; i-- {
			if cs[i].State == market.Reconciled {
				data = appendBin(data, t.symbol, cs[i])
				rc.lastBin[t] = cs[i].OpenTime
				break
			}
		}
	} else {
		rc.s.trades.add(m, rc.ts)
	}
	data = append(data, ']')
	return fmt.Appendf(nil, `{"table":%q,"action":"partial","keys":[],"types":%s,"foreignKeys":{"symbol":"instrument"},"attributes":{"timestamp":"sorted","symbol":"grouped"},"filter":{"symbol":%q},"data":%s}`,
		t.table, types[kind], t.symbol, data), nil
}

// unsubscribe drops topics.
func (rc *rtConn) unsubscribe(ctx context.Context, args []string, request json.RawMessage) error {
	for _, arg := range args {
		t, m, msg := rc.resolve(arg)
		if _, ok := rc.topics[t]; msg != "" || !ok {
			if err := rc.fail(ctx, "You are not subscribed to this topic: "+strings.TrimSpace(arg), request); err != nil {
				return err
			}
			continue
		}
		delete(rc.topics, t)
		if iv, ok := binTables[t.table]; ok {
			if !rc.subscribed(m, t.table) {
				rc.sub.Remove(hub.Stream{Market: m, Interval: iv})
			}
		} else if !rc.subscribed(m, "trade") {
			rc.s.trades.remove(m, rc.ts)
		}
		if err := rc.send(ctx, fmt.Appendf(nil, `{"success":true,"unsubscribe":%q,"request":%s}`, t.String(), request)); err != nil {
			return err
		}
	}
	return nil
}

// subscribed reports whether another symbol still has the table of m.
func (rc *rtConn) subscribed(m market.Market, table string) bool {
	for t, tm := range rc.topics {
		if tm == m && t.table == table {
			return true
		}
	}
	return false
}

// bins inserts every bin that became final since the last one sent.
func (rc *rtConn) bins(ctx context.Context) error {
	for {
		u, _ := rc.sub.TryNext() // why it ended is handled by the caller, on Done
		if u == nil {
			return nil
		}
		c := u.Candle
		if c.State != market.Reconciled {
			continue
		}
		for t, m := range rc.topics {
			if m != c.Market || binTables[t.table] != c.Interval || c.OpenTime <= rc.lastBin[t] {
				continue
			}
			rc.lastBin[t] = c.OpenTime
			msg := appendBin([]byte(`{"table":"`+t.table+`","action":"insert","data":[`), t.symbol, c)
			if err := rc.send(ctx, append(msg, "]}"...)); err != nil {
				return err
			}
		}
	}
}

// trade inserts a live trade for every symbol of its market.
func (rc *rtConn) trade(ctx context.Context, tr market.Trade) error {
	side := "Sell"
	if tr.Buy {
		side = "Buy"
	}
	for t, m := range rc.topics {
		if t.table != "trade" || m != tr.Market {
			continue
		}
		msg := appendTrade([]byte(`{"table":"trade","action":"insert","data":[`), t.symbol, tr, side)
		if err := rc.send(ctx, append(msg, "]}"...)); err != nil {
			return err
		}
	}
	return nil
}
