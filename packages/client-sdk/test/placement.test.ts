import type { DiscoveryCandidate } from '@natter/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chooseNode,
  type DiscoveryHint,
  type DiscoveryOutcome,
  Placement,
  type PlacementOptions,
  weightedPick,
} from '../src/placement.js';

/** A seeded PRNG, so draws are repeatable. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16_807) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}

const node = (id: string, extra: Partial<DiscoveryCandidate> = {}): DiscoveryCandidate => ({
  nodeId: id,
  wsUrl: `ws://${id}.test/v1/ws`,
  pingUrl: `http://${id}.test/v1/ping`,
  region: 'eu',
  load: 0,
  ...extra,
});

const answer = (...candidates: DiscoveryCandidate[]): DiscoveryOutcome => ({
  kind: 'answer',
  answer: { wsUrl: candidates[0]!.wsUrl, region: candidates[0]!.region, candidates },
});

interface Rig {
  placement: Placement;
  clock: { now: number };
  hints: DiscoveryHint[];
  pings: string[];
  /** Round trip each node answers with; a node not listed does not answer (rejects). */
  rtt: Map<string, number>;
}

/** A placement whose discovery answers `answers` in turn (the last one repeats), with scripted pings. */
function rig(answers: DiscoveryOutcome[], rtts: Record<string, number>, options: PlacementOptions = {}): Rig {
  const clock = { now: 1_000_000 };
  const hints: DiscoveryHint[] = [];
  const pings: string[] = [];
  const rtt = new Map(Object.entries(rtts));
  const placement = new Placement(
    {
      discover: async (hint) => {
        hints.push({ region: hint.region, failed: [...hint.failed] });
        return answers[Math.min(hints.length - 1, answers.length - 1)]!;
      },
      ping: async (n) => {
        pings.push(n.nodeId);
        const ms = rtt.get(n.nodeId);
        if (ms === undefined) throw new Error('unreachable');
        return ms;
      },
      fallbackWsUrl: 'ws://configured.test/v1/ws',
      now: () => clock.now,
      random: lcg(7),
    },
    options,
  );
  return { placement, clock, hints, pings, rtt };
}

async function chosen(placement: Placement): Promise<string> {
  const decision = await placement.next();
  if (decision.kind !== 'node') throw new Error(`expected a node, got ${JSON.stringify(decision)}`);
  return decision.node.nodeId;
}

describe('placement by measured latency', () => {
  it('connects to the candidate with the smallest round trip, whatever order discovery gave', async () => {
    const { placement } = rig([answer(node('far'), node('mid'), node('near'))], {
      far: 120,
      mid: 40,
      near: 5,
    });
    expect(await chosen(placement)).toBe('near');
    expect(placement.current?.rttMs).toBe(5);
  });

  it('pings each candidate at most pingsPerNode times and keeps the smallest round trip', async () => {
    const { placement, pings } = rig([answer(node('a'), node('b'))], { a: 30, b: 10 }, { pingsPerNode: 3 });
    await placement.next();
    expect(pings.filter((p) => p === 'a')).toHaveLength(3);
    expect(pings.filter((p) => p === 'b')).toHaveLength(3);
  });

  it('measures at most maxPinged candidates, in discovery order', async () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'].map((id) => node(id));
    const { placement, pings } = rig([answer(...nodes)], { a: 9, b: 9, c: 9, d: 9, e: 1 }, { maxPinged: 2 });
    await placement.next();
    expect(new Set(pings)).toEqual(new Set(['a', 'b']));
  });

  it('does not ping a lone candidate', async () => {
    const { placement, pings } = rig([answer(node('only'))], { only: 3 });
    expect(await chosen(placement)).toBe('only');
    expect(pings).toEqual([]);
  });

  it('gives up on a ping that ignores its timeout after pingTimeoutMs', async () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const placement = new Placement(
      {
        discover: async () => answer(node('hangs'), node('quick')),
        ping: (n) => (n.nodeId === 'quick' ? Promise.resolve(4) : new Promise<number>(() => undefined)),
        fallbackWsUrl: 'ws://configured.test/v1/ws',
        now: () => clock.now,
        random: () => 0.5,
      },
      { pingTimeoutMs: 500 },
    );
    const decision = placement.next();
    await vi.advanceTimersByTimeAsync(499);
    let settled = false;
    void decision.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await decision).toMatchObject({ kind: 'node', node: { nodeId: 'quick' } });
    expect(placement.isBad('hangs')).toBe(true);
  });

  it('reuses measured round trips until rttTtlMs, then measures again', async () => {
    const { placement, pings, clock } = rig(
      [answer(node('a'), node('b'), node('c'))],
      { a: 5, b: 30, c: 60 },
      { rttTtlMs: 60_000 },
    );
    await placement.next();
    const first = pings.length;
    placement.failed('a', { afterOpen: true });
    clock.now += 5_000;
    expect(await chosen(placement)).toBe('b'); // measured 5 s ago: no new pings
    expect(pings).toHaveLength(first);
    clock.now += 60_000; // past rttTtlMs (and candidatesTtlMs: discovery is asked again)
    placement.failed('b', { afterOpen: true });
    await placement.next();
    expect(pings.length).toBeGreaterThan(first);
  });

  it('remembers its choice: the next placement returns the same node without asking discovery', async () => {
    const { placement, hints } = rig([answer(node('a'), node('b'))], { a: 5, b: 50 });
    expect(await chosen(placement)).toBe('a');
    placement.opened('a');
    expect(await chosen(placement)).toBe('a');
    expect(hints).toHaveLength(1);
  });

  it('asks discovery again once the candidates are older than candidatesTtlMs', async () => {
    const { placement, hints, clock } = rig(
      [answer(node('a'), node('b'))],
      { a: 5, b: 50 },
      { candidatesTtlMs: 1_000 },
    );
    await placement.next();
    placement.opened('a');
    clock.now += 1_000;
    await placement.next();
    expect(hints).toHaveLength(2);
  });

  it('sends the app region to discovery and prefers its nodes over nearer ones elsewhere', async () => {
    const { placement, hints } = rig(
      [answer(node('us-1', { region: 'us' }), node('eu-1', { region: 'eu' }))],
      { 'us-1': 2, 'eu-1': 90 },
      { region: 'eu' },
    );
    expect(await chosen(placement)).toBe('eu-1');
    expect(hints[0]?.region).toBe('eu');
  });

  it('falls back to another region when no node of the app region is healthy', async () => {
    const { placement } = rig(
      [answer(node('us-1', { region: 'us' }), node('eu-1', { region: 'eu' }))],
      { 'us-1': 2 },
      { region: 'eu' },
    );
    expect(await chosen(placement)).toBe('us-1');
  });

  it('uses a discovery answer without candidates (an older server) as its one wsUrl, unpinged', async () => {
    const { placement, pings } = rig(
      [{ kind: 'answer', answer: { wsUrl: 'ws://old.test/v1/ws', region: 'x' } }],
      {},
    );
    const decision = await placement.next();
    expect(decision).toMatchObject({ kind: 'node', node: { wsUrl: 'ws://old.test/v1/ws' } });
    expect(pings).toEqual([]);
  });

  it('falls back to the configured URL when discovery cannot be reached', async () => {
    const placement = new Placement({
      discover: async () => {
        throw new Error('ECONNREFUSED');
      },
      ping: async () => 1,
      fallbackWsUrl: 'ws://configured.test/v1/ws',
      now: () => 0,
      random: () => 0.5,
    });
    expect(await placement.next()).toMatchObject({
      kind: 'node',
      node: { wsUrl: 'ws://configured.test/v1/ws' },
    });
  });
});

describe('choosing between equals', () => {
  const rtt = (values: Record<string, number>) => (id: string) => values[id];

  it('treats round trips within equalRttMs of the fastest as equal and draws by free capacity', () => {
    const pool = [node('busy', { load: 0.75 }), node('idle', { load: 0 })];
    const random = lcg(42);
    const counts = { busy: 0, idle: 0 };
    for (let i = 0; i < 10_000; i++) {
      const pick = chooseNode(pool, rtt({ busy: 3, idle: 9 }), { region: undefined, equalRttMs: 10, random });
      counts[pick.nodeId as 'busy' | 'idle']++;
    }
    // Free capacity 0.25 : 1 → the idle node about 80% of the time.
    expect(counts.idle / 10_000).toBeGreaterThan(0.77);
    expect(counts.idle / 10_000).toBeLessThan(0.83);
  });

  it('never trades a clearly faster node for a less loaded slower one', () => {
    const pool = [node('near', { load: 0.9 }), node('far', { load: 0 })];
    const random = lcg(5);
    for (let i = 0; i < 200; i++) {
      const pick = chooseNode(pool, rtt({ near: 5, far: 40 }), { region: undefined, equalRttMs: 10, random });
      expect(pick.nodeId).toBe('near');
    }
  });

  it('widens the band of equals to 20% of the fastest round trip for distant nodes', () => {
    const pool = [node('a', { load: 0.5 }), node('b', { load: 0.5 })];
    const picks = new Set<string>();
    const random = lcg(11);
    for (let i = 0; i < 50; i++) {
      picks.add(
        chooseNode(pool, rtt({ a: 200, b: 235 }), { region: undefined, equalRttMs: 10, random }).nodeId,
      );
    }
    expect(picks).toEqual(new Set(['a', 'b']));
  });

  it('draws every item in proportion to its weight', () => {
    const random = lcg(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[weightedPick([0, 1, 2], (x) => x + 1, random)]!++;
    expect(counts.map((c) => Math.round((c / 30_000) * 6))).toEqual([1, 2, 3]);
  });
});

describe('failover', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('moves to the next candidate at once without asking discovery while one is untried', async () => {
    const { placement, hints } = rig([answer(node('a'), node('b'), node('c'))], { a: 1, b: 20, c: 40 });
    expect(await chosen(placement)).toBe('a');
    expect(placement.failed('a')).toBe('now');
    expect(await chosen(placement)).toBe('b');
    expect(hints).toHaveLength(1);
  });

  it('after an open session broke, advises the backoff and avoids the node', async () => {
    const { placement } = rig([answer(node('a'), node('b'))], { a: 1, b: 2 });
    await placement.next();
    placement.opened('a');
    expect(placement.failed('a', { afterOpen: true })).toBe('later');
    expect(await chosen(placement)).toBe('b');
  });

  it('asks discovery once when every candidate failed, reporting them, then advises the backoff', async () => {
    const { placement, hints } = rig([answer(node('a'), node('b')), answer(node('c'))], { a: 1, b: 30 });
    await placement.next();
    expect(placement.failed('a')).toBe('now');
    await placement.next();
    expect(placement.failed('b')).toBe('now');
    expect(await chosen(placement)).toBe('c');
    expect(hints[1]?.failed.sort()).toEqual(['a', 'b']);
    expect(placement.failed('c')).toBe('later');
  });

  it('tries each node at most once per round and then answers none: it never spins', async () => {
    const { placement, hints } = rig([answer(node('a'), node('b'))], { a: 1, b: 30 });
    const tried: string[] = [];
    for (let i = 0; i < 10; i++) {
      const decision = await placement.next();
      if (decision.kind === 'none') break;
      tried.push(decision.node.nodeId);
      if (placement.failed(decision.node.nodeId) === 'later') break;
    }
    expect(tried.sort()).toEqual(['a', 'b']);
    expect(hints.length).toBeLessThanOrEqual(2);
  });

  it('after the backoff, tries the node whose avoidance ends first (a lone node that restarted comes back)', async () => {
    const { placement, clock, hints } = rig([answer(node('only'))], {});
    await placement.next();
    expect(placement.failed('only')).toBe('now'); // back to discovery at once
    expect((await placement.next()).kind).toBe('none'); // it lists only the failed node: wait
    expect(hints).toHaveLength(2);
    clock.now += 700; // the connection's backoff
    expect(await chosen(placement)).toBe('only'); // one last-resort attempt per round
    placement.failed('only');
    expect((await placement.next()).kind).toBe('none');
  });

  it('does not try a node before the delay it named, and reports that delay', async () => {
    const { placement, clock } = rig([answer(node('full'))], {});
    await placement.next();
    placement.failed('full', { retryAfterMs: 5_000 });
    await placement.next();
    clock.now += 1_000;
    const decision = await placement.next();
    expect(decision).toMatchObject({ kind: 'none', retryAfterMs: 4_000 });
    clock.now += 4_000;
    expect(await chosen(placement)).toBe('full');
  });

  it('answers none with the named delay when discovery says no node is healthy', async () => {
    const { placement } = rig([{ kind: 'none', retryAfterMs: 1_500 }], {});
    expect(await placement.next()).toMatchObject({ kind: 'none', retryAfterMs: 1_500 });
  });

  it('treats an empty candidate list like "no healthy node"', async () => {
    const { placement } = rig(
      [{ kind: 'answer', answer: { wsUrl: 'ws://x.test/v1/ws', region: 'eu', candidates: [] } }],
      {},
    );
    expect(await placement.next()).toMatchObject({ kind: 'none' });
  });

  it('skips a candidate that does not answer its ping while another one does', async () => {
    const { placement } = rig([answer(node('dead'), node('alive'))], { alive: 50 });
    expect(await chosen(placement)).toBe('alive');
    expect(placement.isBad('dead')).toBe(true);
  });

  it('keeps every candidate, unmeasured, when no ping works at all', async () => {
    const { placement } = rig([answer(node('a'), node('b'))], {});
    expect(await chosen(placement)).toBe('a');
    expect(placement.isBad('b')).toBe(false);
  });

  it('avoids a flapping node twice as long each time it fails again', async () => {
    const { placement, clock } = rig([answer(node('flappy'), node('steady'))], { flappy: 1, steady: 30 });
    await placement.next();
    placement.failed('flappy', { afterOpen: true });
    clock.now += 9_999;
    expect(placement.isBad('flappy')).toBe(true);
    clock.now += 1;
    expect(placement.isBad('flappy')).toBe(false);
    placement.failed('flappy', { afterOpen: true });
    clock.now += 19_999;
    expect(placement.isBad('flappy')).toBe(true);
    clock.now += 1;
    expect(placement.isBad('flappy')).toBe(false);
  });

  it('forgets the marks when every node had failed and one then opened (the client was offline)', async () => {
    const { placement } = rig([answer(node('a'), node('b'))], { a: 1, b: 2 });
    await placement.next();
    placement.failed('a');
    await placement.next();
    placement.failed('b');
    placement.opened('b');
    expect(placement.isBad('a')).toBe(false);
  });

  it('keeps avoiding a dead node after moving to a healthy one', async () => {
    const { placement } = rig([answer(node('dead'), node('b'))], { dead: 1, b: 2 });
    await placement.next();
    placement.failed('dead', { afterOpen: true });
    await placement.next();
    placement.opened('b');
    expect(placement.isBad('dead')).toBe(true);
  });
});
