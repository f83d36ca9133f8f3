// candlewire's live chart: history over /v1/candles, then live updates over
// the transport picked (WebSocket, SSE, long polling or polling), each
// resuming from the last cursor it saw, also after a server restart.
import { createChart, CandlestickSeries, HistogramSeries } from 'lightweight-charts';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token');
const auth = (url) => (token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url);

// state is exposed as window.candlewire for the browser tests.
const state = {
  market: '', interval: '1m', transport: 'ws', cursor: 0, bars: new Map(), last: -1, updates: 0,
  stats: {}, stop: () => {}, status: null, error: '',
};
window.candlewire = state;

const transports = { ws: startWS, sse: startSSE, longpoll: startLongPoll, poll: startPoll };

const chart = createChart($('chart'), {
  autoSize: true,
  layout: { background: { color: '#0f1419' }, textColor: '#c5ccd3' },
  grid: { vertLines: { color: '#1e252c' }, horzLines: { color: '#1e252c' } },
  timeScale: { timeVisible: true, secondsVisible: false },
});
const candles = chart.addSeries(CandlestickSeries, {
  upColor: '#26a69a', downColor: '#ef5350', borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350',
});
// Volume has a pane of its own below the candles, a quarter of the height.
const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' } }, 1);
chart.panes()[0].setStretchFactor(3);
chart.panes()[1].setStretchFactor(1);
state.panes = chart.panes().length;

const stream = () => `${state.market}@${state.interval}`;

function stats(name) {
  if (!state.stats[name]) state.stats[name] = { updates: 0, bytes: 0, requests: 0, latency: 0, latencySum: 0 };
  return state.stats[name];
}

// bar turns a wire candle into chart bars (display only: exact decimals
// stay on the server).
function bars(c) {
  const time = c.t / 1000;
  const up = +c.c >= +c.o;
  return [
    { time, open: +c.o, high: +c.h, low: +c.l, close: +c.c },
    { time, value: +c.v, color: up ? 'rgba(38,166,154,0.5)' : 'rgba(239,83,80,0.5)' },
  ];
}

// apply draws one candle change; an older bin (a correction) redraws all.
function apply(c) {
  if (`${c.venue}:${c.symbol}` !== state.market || c.interval !== state.interval) return;
  state.bars.set(c.t, c);
  if (c.t >= state.last) {
    state.last = c.t;
    const [bar, vol] = bars(c);
    candles.update(bar);
    volume.update(vol);
  } else {
    redraw();
  }
}

function redraw() {
  const sorted = [...state.bars.values()].sort((a, b) => a.t - b.t);
  state.last = sorted.length ? sorted[sorted.length - 1].t : -1;
  const all = sorted.map(bars);
  candles.setData(all.map((b) => b[0]));
  volume.setData(all.map((b) => b[1]));
}

// received handles one message of the live transport.
function received(name, m, bytes) {
  const s = stats(name);
  s.bytes += bytes;
  if (m.type !== 'candle') return;
  state.cursor = Math.max(state.cursor, m.cursor);
  state.updates++;
  s.updates++;
  if (m.candle.updated) {
    s.latency = Math.max(0, Date.now() - m.candle.updated);
    s.latencySum += s.latency;
  }
  apply(m.candle);
}

function startWS() {
  const s = stats('ws');
  let ws, retry, stopped = false;
  const open = () => {
    s.requests++;
    ws = new WebSocket(auth(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`));
    ws.onopen = () => ws.send(JSON.stringify({ op: 'subscribe', id: 1, streams: [stream()], since: state.cursor }));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'error' && m.code === 400 && !stopped) { stopped = true; ws.close(); refused(); return; }
      if (m.type === 'ack' && m.resync && !stopped) { stopped = true; ws.close(); refused(m.resync); return; }
      received('ws', m, e.data.length);
    };
    ws.onclose = () => { if (!stopped) retry = setTimeout(open, 1000); };
  };
  open();
  return () => { stopped = true; clearTimeout(retry); ws.close(); };
}

function startSSE() {
  const s = stats('sse');
  // EventSource reconnects by itself and sends the last id as Last-Event-ID.
  const es = new EventSource(auth(`/v1/sse?streams=${encodeURIComponent(stream())}&since=${state.cursor}`));
  es.onopen = () => { s.requests++; };
  es.addEventListener('candle', (e) => received('sse', JSON.parse(e.data), e.data.length));
  es.addEventListener('resync', (e) => { es.close(); refused(JSON.parse(e.data).reason); });
  // An answer other than a stream (a 400 for a cursor the server no longer
  // has) closes it for good: start again from the history.
  let retry;
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) retry = setTimeout(refused, 1000); };
  return () => { clearTimeout(retry); es.close(); };
}

// loop runs fetch rounds until stopped, waiting after failures.
function loop(name, round, pause) {
  const s = stats(name);
  const ctl = new AbortController();
  (async () => {
    while (!ctl.signal.aborted) {
      try {
        s.requests++;
        await round(ctl.signal);
        if (pause) await sleep(pause);
      } catch (e) {
        if (ctl.signal.aborted) return;
        await sleep(1000);
      }
    }
  })();
  return () => ctl.abort();
}

function startLongPoll() {
  return loop('longpoll', async (signal) => {
    const r = await fetch(auth(`/v1/poll?streams=${encodeURIComponent(stream())}&cursor=${state.cursor}&timeout=20s`), { signal });
    if (r.status === 400) return refused();
    const text = await r.text();
    const body = JSON.parse(text);
    if (body.resync) return refused(body.resync);
    stats('longpoll').bytes += text.length;
    for (const m of body.candles) received('longpoll', m, 0);
    state.cursor = Math.max(state.cursor, body.cursor);
  }, 0);
}

function startPoll() {
  const [market, interval] = [state.market, state.interval];
  return loop('poll', async (signal) => {
    const r = await fetch(auth(`/v1/candles?market=${encodeURIComponent(market)}&interval=${interval}&since=${state.cursor}`), { signal });
    if (r.status === 400) return refused();
    const text = await r.text();
    const body = JSON.parse(text);
    if (body.resync) return refused(body.resync);
    stats('poll').bytes += text.length;
    for (const c of body.candles) received('poll', { type: 'candle', cursor: body.cursor, candle: c }, 0);
    state.cursor = Math.max(state.cursor, body.cursor);
  }, 1000);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// applyScale draws prices with the market's own decimals and step, from its
// venue's instrument list (GET /v1/status), so a 0.0001-tick market is not
// rounded to cents.
function applyScale() {
  const st = state.status && state.status.markets.find((m) => m.market === state.market);
  if (!st || st.price_places === undefined) return;
  state.precision = st.price_places;
  candles.applyOptions({ priceFormat: { type: 'price', precision: st.price_places, minMove: +st.tick } });
}

// refused starts again from the history when the server refuses the
// cursor (it is ahead of the server's newest change: its database was
// replaced, so nothing would ever arrive after it) or asks for a resync
// (the cursor is of another epoch of its change log, or older than the
// log keeps).
function refused(why) {
  state.error = (why || 'the server refused the cursor') + ': reloading';
  state.stop();
  state.stop = () => {};
  setTimeout(load, 0);
}

// load shows the newest candles, then follows live changes from their cursor.
async function load() {
  state.stop();
  state.bars.clear();
  applyScale();
  try {
    const r = await fetch(auth(`/v1/candles?market=${encodeURIComponent(state.market)}&interval=${state.interval}&limit=500`));
    const body = await r.json();
    for (const c of body.candles) state.bars.set(c.t, c);
    state.cursor = body.cursor;
    redraw();
    if (state.bars.size < 120) chart.timeScale().fitContent();
    else chart.timeScale().scrollToRealTime();
  } catch (e) {
    state.error = 'history: ' + e;
  }
  switchTo(state.transport);
}

function switchTo(name) {
  state.stop();
  state.transport = name;
  state.stop = transports[name]();
  for (const b of document.querySelectorAll('[data-transport]')) b.classList.toggle('on', b.dataset.transport === name);
}

// esc makes text safe inside HTML.
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render() {
  const rows = Object.entries(transports).map(([name]) => {
    const s = stats(name);
    const avg = s.updates ? (s.latencySum / s.updates).toFixed(0) : '–';
    return `<tr class="${name === state.transport ? 'on' : ''}"><td>${name}</td><td>${s.updates}</td><td>${s.latency} ms</td><td class="wide">${avg} ms</td><td>${(s.bytes / 1024).toFixed(1)} KiB</td><td class="wide">${s.requests}</td></tr>`;
  });
  $('stats').innerHTML = '<tr><th>transport</th><th>updates</th><th>latency</th><th class="wide">avg</th><th>received</th><th class="wide">requests</th></tr>' + rows.join('');
  renderBanner();
  const st = state.status && state.status.markets.find((m) => m.market === state.market);
  if (!st) {
    $('quality').textContent = state.status ? 'no data yet' : 'server unreachable: retrying';
    return;
  }
  // Age since the newest final bin was stored: wall-clock time, so it also
  // means something against a time-compressed simulator.
  const age = st.last_final_at ? Math.max(0, (state.status.now - st.last_final_at) / 1000).toFixed(0) + ' s' : '–';
  const bin = st.last_final ? new Date(st.last_final).toISOString().slice(11, 16) : '–';
  $('quality').innerHTML = `last final bin <b>${bin}</b>, stored <b>${age}</b> ago · gaps found <b>${st.gaps_found}</b> · filled <b>${st.gaps_filled}</b>` +
    ` · reconnects <b>${st.reconnects}</b> · connect budget left <b>${st.budget_left}</b>` +
    (st.owner ? ` · collected by <b>${esc(st.owner)}</b>` + (st.standby ? ` (standby <b>${esc(st.standby)}</b>)` : '') : '');
}

// renderBanner shows, while the market's venue has had no connection for
// 2 s or more, since when, why and when the server tries again.
function renderBanner() {
  const venue = state.market.split(':')[0];
  const link = state.status && (state.status.venues || []).find((v) => v.venue === venue);
  const down = link && !link.connected && state.status.now - link.since >= 2000;
  $('banner').hidden = !down;
  if (!down) return;
  const secs = (ms) => `${Math.max(0, Math.round(ms / 1000))} s`;
  const next = link.retry_at ? `next attempt in ${secs(link.retry_at - state.status.now)}` : 'trying now';
  $('banner').textContent = `${venue}: not connected for ${secs(state.status.now - link.since)}: ${link.reason || 'connecting'}; ${next}. ` +
    'Once it reconnects, the server fetches the missed minutes from the venue and the chart catches up.';
}

// refreshStatus reads the markets and their data quality every 2 s.
async function refreshStatus() {
  try {
    const r = await fetch(auth('/v1/status'));
    state.status = await r.json();
  } catch (e) {
    state.status = null;
  }
}

async function init() {
  while (!state.status) {
    await refreshStatus();
    if (!state.status) await sleep(1000);
  }
  const markets = $('market');
  for (const m of state.status.markets) markets.add(new Option(m.market, m.market));
  for (const iv of state.status.intervals) $('interval').add(new Option(iv, iv));
  state.market = state.status.markets[0].market;
  markets.onchange = () => { state.market = markets.value; load(); };
  $('interval').onchange = () => { state.interval = $('interval').value; load(); };
  for (const b of document.querySelectorAll('[data-transport]')) b.onclick = () => switchTo(b.dataset.transport);
  setInterval(refreshStatus, 2000);
  setInterval(render, 500);
  await load();
}

init();
