// Package binancesim is the simulator's Binance spot front-end: the
// combined-stream WebSocket (/stream?streams=…) with aggTrade, kline pushes
// every 2 s of simulated time plus the x:true push, SUBSCRIBE, ping frames,
// the 24-hour cut, the 5 messages/s limit, serverShutdown, and REST
// /api/v3/klines. Message shapes follow the real recordings in
// ../shared/realdata.
package binancesim
