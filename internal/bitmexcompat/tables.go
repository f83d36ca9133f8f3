package bitmexcompat

import (
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

// subscribe acks each topic and sends its partial; the topics it cannot
// serve get one 400 for the request.
func (rc *rtConn) subscribe(args []string, request json.RawMessage) error {
	if len(args) == 0 {
		return rc.fail("No args given for subscribe", request)
	}
	var bad failures
	for _, arg := range args {
		msg, err := rc.subscribeOne(arg, request)
		if err != nil {
			return err
		}
		if msg != "" {
			bad.add(msg)
		}
	}
	return bad.send(rc, request)
}

// subscribeOne subscribes a topic, or returns why it cannot (BitMEX's
// message).
func (rc *rtConn) subscribeOne(arg string, request json.RawMessage) (string, error) {
	t, m, msg := rc.resolve(arg)
	if msg != "" {
		return msg, nil
	}
	if _, dup := rc.topics[t]; dup {
		return "You are already subscribed to this topic: " + t.String(), nil
	}
	if len(rc.topics) >= maxTopics {
		return fmt.Sprintf("Too many subscriptions (at most %d)", maxTopics), nil
	}
	rc.topics[t] = m
	partial, err := rc.partial(t, m)
	if err != nil {
		rc.drop(t, m)
		return clip("Store unavailable: " + err.Error()), nil
	}
	if err := rc.send(fmt.Appendf(nil, `{"success":true,"subscribe":%q,"request":%s}`, t.String(), request)); err != nil {
		return "", err
	}
	return "", rc.send(partial)
}

// resolve reads table:SYMBOL; msg is BitMEX's error message, "" if none.
func (rc *rtConn) resolve(arg string) (t topic, m market.Market, msg string) {
	table, symbol, _ := strings.Cut(strings.TrimSpace(arg), ":")
	if _, ok := binTables[table]; !ok && table != "trade" {
		return topic{}, market.Market{}, "Unknown table: " + clip(table)
	}
	if symbol == "" {
		return topic{}, market.Market{}, fmt.Sprintf("Subscribing to all of %s is not supported; subscribe to %s:SYMBOL", table, table)
	}
	m, msg = rc.s.lookup(clip(symbol))
	return topic{table, strings.ToUpper(symbol)}, m, msg
}

// partial is the table's image: the newest final bin, or (for trade) no
// rows, as candlewire keeps no trade history.
func (rc *rtConn) partial(t topic, m market.Market) ([]byte, error) {
	kind, data := "trade", []byte("[")
	if iv, ok := binTables[t.table]; ok {
		kind = "bin"
		rc.sub.Add(hub.Stream{Market: m, Interval: iv})
		cs, err := rc.s.cfg.Store.Latest(rc.ctx, m, iv, 3)
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

// unsubscribe drops topics; the ones not subscribed get one 400 for the
// request.
func (rc *rtConn) unsubscribe(args []string, request json.RawMessage) error {
	var bad failures
	for _, arg := range args {
		t, m, msg := rc.resolve(arg)
		if _, ok := rc.topics[t]; msg != "" || !ok {
			bad.add("You are not subscribed to this topic: " + clip(strings.TrimSpace(arg)))
			continue
		}
		rc.drop(t, m)
		if err := rc.send(fmt.Appendf(nil, `{"success":true,"unsubscribe":%q,"request":%s}`, t.String(), request)); err != nil {
			return err
		}
	}
	return bad.send(rc, request)
}

// drop ends topic t of market m, and the market's stream when no other
// symbol's topic needs it.
func (rc *rtConn) drop(t topic, m market.Market) {
	delete(rc.topics, t)
	if iv, ok := binTables[t.table]; ok {
		if !rc.subscribed(m, t.table) {
			rc.sub.Remove(hub.Stream{Market: m, Interval: iv})
		}
	} else if !rc.subscribed(m, "trade") {
		rc.s.trades.remove(m, rc.ts)
	}
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
func (rc *rtConn) bins() error {
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
			if err := rc.send(append(msg, "]}"...)); err != nil {
				return err
			}
		}
	}
}

// trade inserts a live trade for every symbol of its market.
func (rc *rtConn) trade(tr market.Trade) error {
	side := sideOf(tr)
	for t, m := range rc.topics {
		if t.table != "trade" || m != tr.Market {
			continue
		}
		msg := appendTrade([]byte(`{"table":"trade","action":"insert","data":[`), t.symbol, tr, side)
		if err := rc.send(append(msg, "]}"...)); err != nil {
			return err
		}
	}
	return nil
}
