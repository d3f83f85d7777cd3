import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from '../lib/histogram.mjs';
import { dieOnError, now, processStats, serve } from '../lib/ipc.mjs';
import { stampedText, stampOf } from '../systems/setup-plan.mjs';
import { connectors } from './clients.mjs';

/**
 * A load process: holds connections, drives chat traffic (closed loop or fixed rate) and records what
 * its clients receive. The orchestrator tells it when the measured window starts (`mark`) and ends
 * (`report`), so warm-up traffic is never counted. Every loop is bounded by a count and a deadline.
 */
dieOnError();
let clients = [];
let traffic; // the running chat load, if any
let counters = freshCounters();

/**
 * Deliveries are also counted per 10 ms slot, so the orchestrator can count exactly those inside the
 * server's CPU window (a busy server answers its stats request late; the windows must still match).
 */
const SLOT_MS = 10;
function freshCounters() {
  const since = now();
  return { delivered: 0, acked: 0, failed: 0, skipped: 0, latency: new Histogram(), since, slots: new Map() };
}

/** Opens `users` with at most `concurrency` handshakes in flight; records when each one was authenticated. */
async function connect({ kind, users, concurrency = 200, deadlineMs = 300_000 }) {
  const open = connectors[kind];
  const started = now();
  const out = new Array(users.length);
  const errors = [];
  let next = 0;
  // Past the deadline no new handshake starts: the caller gets what was reached instead of a timeout.
  const lane = async () => {
    while (next < users.length && now() - started < deadlineMs) {
      const i = next++;
      try {
        out[i] = await open(users[i].port, users[i]);
        out[i].onMessage = onMessage;
      } catch (err) {
        if (errors.length < 3) errors.push(String(err?.message ?? err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, lane));
  clients = clients.concat(out);
  const connected = out.filter(Boolean).length;
  const notTried = users.length - next;
  return { connected, failed: next - connected, notTried, ms: now() - started, errors };
}

function onMessage(text) {
  counters.delivered++;
  const slot = Math.floor(now() / SLOT_MS);
  counters.slots.set(slot, (counters.slots.get(slot) ?? 0) + 1);
  const sentAt = stampOf(text);
  if (sentAt > 0) counters.latency.record(now() - sentAt);
}

let nextClientMsg = 0;
function sendOne(sender, onAck) {
  sender.client.send(sender.channelId, `c${process.pid}-${++nextClientMsg}`, stampedText(now()), onAck);
}

/**
 * Starts traffic from `senders` ([{ index, channelId }]).
 * closed: each sender keeps `window` sends unacknowledged (max throughput);
 * rate: `rate` sends/s in total, spread round-robin, paced every ~2 ms whatever the acks do (open loop).
 */
function startChat({ senders, mode, window = 1, rate = 0, maxMs = 120_000, maxInFlight = 20_000 }) {
  const list = senders
    .map((s) => ({ client: clients[s.index], channelId: s.channelId }))
    .filter((s) => s.client);
  const state = { stopped: false, inFlight: 0, started: now() };
  traffic = state;
  const onAck = (sender) => (ack) => {
    state.inFlight--;
    if (ack?.error || ack?.t === 'error') counters.failed++;
    else counters.acked++;
    if (mode === 'closed' && !state.stopped) fire(sender);
  };
  const fire = (sender) => {
    state.inFlight++;
    sendOne(sender, sender.ack);
  };
  for (const s of list) s.ack = onAck(s);
  const deadline = setTimeout(() => (state.stopped = true), maxMs);
  deadline.unref();
  if (mode === 'closed') {
    for (const s of list) for (let w = 0; w < window; w++) fire(s);
    return { senders: list.length };
  }
  let sent = 0;
  let rr = 0;
  const tick = () => {
    if (state.stopped) return;
    const due = Math.floor((rate * (now() - state.started)) / 1000) - sent;
    for (let i = 0; i < due; i++, sent++) {
      // Past this many unanswered sends the server is not keeping up; count the shortfall instead of queueing.
      if (state.inFlight >= maxInFlight) counters.skipped++;
      else fire(list[rr++ % list.length]);
    }
    setTimeout(tick, 2);
  };
  tick();
  return { senders: list.length };
}

/** Stops sending and waits (bounded) for the sends in flight to be answered. */
async function stopChat({ drainMs = 5_000 } = {}) {
  if (!traffic) return { inFlight: 0 };
  traffic.stopped = true;
  const deadline = now() + drainMs;
  while (traffic.inFlight > 0 && now() < deadline) await sleep(10);
  return { inFlight: traffic.inFlight };
}

function mark() {
  counters = freshCounters();
  return { at: counters.since, ...processStats() };
}

/** Counters since `mark`; `inWindow` counts the deliveries between `from` and `to` (wall clock, ms). */
function report({ from = 0, to = Number.POSITIVE_INFINITY } = {}) {
  const { latency, slots, ...rest } = counters;
  let inWindow = 0;
  for (const [slot, n] of slots) if (slot * SLOT_MS >= from && slot * SLOT_MS < to) inWindow += n;
  return { ...rest, inWindow, until: now(), latency: latency.toJSON(), ...processStats() };
}

/** Catch-up over natter frames: connect, then `sync` pages from cursor 0 until `hasMore` is false. */
async function catchupFrames({ user, maxPages = 1_000, maxMs = 60_000 }) {
  const started = now();
  const client = await connectors.frames(user.port, user);
  const connected = now();
  let after = 0;
  let epoch;
  let entries = 0;
  let pages = 0;
  for (; pages < maxPages && now() - started < maxMs; ) {
    const page = await client.request({ t: 'sync', after, ...(epoch ? { epoch } : {}) });
    if (page.t !== 'sync.page') throw new Error(`sync failed: ${page.code} ${page.message}`);
    pages++;
    entries += page.entries.length;
    epoch = page.epoch;
    after = page.entries.at(-1)?.pos ?? after;
    if (!page.hasMore) break;
  }
  const done = now();
  client.close();
  return {
    connectMs: connected - started,
    syncMs: done - connected,
    totalMs: done - started,
    entries,
    pages,
  };
}

/** Socket.IO catch-up, step 1: connect (the server then sends one message, which gives the client an offset). */
async function sioPrepare({ user }) {
  const client = await connectors.socketio(user.port, user);
  client.onMessage = onMessage;
  clients = [client];
  return { id: client.socket.id };
}

/** Resolves once this process's clients received `count` messages since the last `mark` (bounded). */
async function waitDelivered({ count, maxMs = 10_000 }) {
  return { complete: await waitFor(() => counters.delivered >= count, maxMs), delivered: counters.delivered };
}

/** Step 2: drop the transport (not a clean disconnect) so the server keeps the session for recovery. */
async function sioDrop() {
  const { socket } = clients[0];
  const gone = new Promise((resolve) => socket.once('disconnect', resolve));
  socket.io.engine.close();
  return { reason: await gone };
}

/** Step 3: reconnect; Socket.IO replays what the room got meanwhile. Timed until `expected` arrive. */
async function sioRecover({ expected, maxMs = 60_000 }) {
  const { socket } = clients[0];
  counters = freshCounters();
  const started = now();
  const connected = new Promise((resolve) => socket.once('connect', () => resolve(now())));
  socket.connect();
  const connectedAt = await connected;
  const complete = await waitFor(() => counters.delivered >= expected, maxMs);
  const done = now();
  return {
    connectMs: connectedAt - started,
    totalMs: done - started,
    entries: counters.delivered,
    recovered: socket.recovered,
    complete,
  };
}

async function waitFor(predicate, maxMs) {
  const deadline = now() + maxMs;
  while (!predicate()) {
    if (now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

function closeAll() {
  for (const c of clients) c?.close();
  clients = [];
  return { closed: true };
}

serve({
  connect,
  startChat,
  stopChat,
  mark,
  report,
  catchupFrames,
  sioPrepare,
  waitDelivered,
  sioDrop,
  sioRecover,
  closeAll,
  stats: () => processStats(),
});
