// ccxt's bitmex adapter, unmodified, pointed at a BitMEX-compatible
// endpoint: only its URLs change (and, for plain http/ws rather than
// https/wss, ccxt asks for an http agent). Prints what it receives.
import http from 'node:http';
import ccxt from 'ccxt';

const base = process.argv[2];
const ex = new ccxt.pro.bitmex();
ex.urls.api = { public: base, private: base, ws: base.replace('http', 'ws') + '/realtime' };
if (base.startsWith('http:')) {
  ex.agent = new http.Agent({ keepAlive: true });
  await ex.loadHttpProxyAgent();
}
const markets = await ex.loadMarkets();
console.log('markets ' + JSON.stringify(Object.keys(markets)));
console.log('fetchOHLCV ' + JSON.stringify(await ex.fetchOHLCV('BTC/USD:BTC', '1m', undefined, 5)));
const trades = await ex.fetchTrades('BTC/USD:BTC', undefined, 5);
console.log('fetchTrades ' + JSON.stringify(trades.map((t) => [t.timestamp, t.price, t.amount, t.side, t.id])));
for (let i = 0; i < 2; i++) {
  const live = await ex.watchOHLCV('BTC/USD:BTC', '1m');
  console.log('watchOHLCV ' + JSON.stringify(live[live.length - 1]));
}
await ex.close();
