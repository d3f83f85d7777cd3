/**
 * The seeded simulation of encrypted groups under concurrent commits (issue #21): the real server in process
 * (its Delivery Service behind the HTTP API) and six devices of two users with real MLS engines. Each step
 * the seed picks one device and one action (make a commit without sending it, send the commit in flight,
 * send a message, read the next few log entries, crash), so several devices hold commits for the same epoch
 * and race; each device reads the log at its own pace. Then every device heals (resends, reads to the end,
 * takes its Welcomes) and the invariants are checked against the server's log.
 */
import type { Message } from '@natter/protocol';
import { api, signup, type TestUser } from '../helpers/server.js';
import { type DeviceFaults, SimE2eeDevice } from './e2ee-sim-device.js';
import { Prng } from './prng.js';

export interface E2eeSimOptions {
  url: string;
  seed: number;
  steps: number;
  /** Faults of the first device (a planted bug the invariants must catch). */
  faults?: DeviceFaults;
}

export interface E2eeSimReport {
  seed: number;
  violations: string[];
  commitsAccepted: number;
  staleRefused: number;
  pendingDiscarded: number;
  retriedAfterCrash: number;
  forksDetected: number;
  rejoins: number;
  messages: number;
  crashes: number;
}

const ROUNDS_TO_HEAL = 6;

async function loginDevice(url: string, user: TestUser): Promise<TestUser> {
  const res = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: 'correct horse battery' }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return {
    ...user,
    ...((await res.json()) as { accessToken: string; refreshToken: string; deviceId: string }),
  };
}

/** Runs one seeded schedule and returns the invariant violations found after healing. */
export async function runE2eeSim(options: E2eeSimOptions): Promise<E2eeSimReport> {
  const { url, seed } = options;
  const prng = new Prng(seed);
  const [alice, bob] = [await signup(url), await signup(url)];
  const created = await api<{ channel: { id: string } }>(url, alice!, 'POST', '/v1/groups', {
    name: `e2ee-sim-${seed}`,
    memberIds: [bob!.id],
    encrypted: true,
  });
  if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
  const channelId = created.body.channel.id;
  const sessions = [alice!, await loginDevice(url, alice!), await loginDevice(url, alice!)];
  sessions.push(bob!, await loginDevice(url, bob!), await loginDevice(url, bob!));
  const devices: SimE2eeDevice[] = [];
  for (const [i, session] of sessions.entries())
    devices.push(await SimE2eeDevice.create(url, session, channelId, i === 0 ? (options.faults ?? {}) : {}));
  // a1 founds the group with a2, b1 and b2; a3 and b3 start outside (added later, or join externally).
  await devices[0]!.found([devices[1]!.ref, devices[3]!.ref, devices[4]!.ref]);
  for (const i of [1, 3, 4]) await devices[i]!.read(1);

  let crashes = 0;
  let sent = 0;
  for (let step = 0; step < options.steps; step++) {
    const device = prng.pick(devices);
    const roll = prng.next();
    if (roll < 0.25) {
      if (!device.inGroup) {
        await device.proposeExternalJoin();
        continue;
      }
      const members = device.engine.members(channelId);
      const outside = devices.filter(
        (d) => !members.some((m) => m.userId === d.session.id && m.deviceId === d.session.deviceId),
      );
      // Alice is the group's admin: her devices may remove anyone; Bob's only his own other devices.
      const removable = members.filter(
        (m) => !m.self && (device.session.id === alice!.id || m.userId === device.session.id),
      );
      const kind = prng.int(0, 2);
      if (kind === 0 && outside.length > 0) await device.proposeAdd([prng.pick(outside).ref]);
      else if (kind === 1 && removable.length > 0) {
        const target = prng.pick(removable);
        await device.proposeRemove([{ userId: target.userId, deviceId: target.deviceId }]);
      } else await device.proposeUpdate();
    } else if (roll < 0.45) {
      await device.submit();
    } else if (roll < 0.7) {
      if (await device.send(`sim${seed}-${step}`, `${seed}:${step} from ${device.key}`)) sent++;
    } else if (roll < 0.92) {
      await device.read(prng.int(1, 4));
    } else {
      crashes++;
      // Half the crashes happen right after the server accepted the commit in flight: the answer is lost.
      if (prng.chance(0.5)) await device.submit(true);
      await device.crash();
    }
  }

  // Healing: each device resends what it has in flight and reads to the end, until nothing changes.
  for (let round = 0; round < ROUNDS_TO_HEAL; round++) {
    const before = devices.map((d) => `${d.cursor}:${d.inflight ? 1 : 0}`).join(',');
    for (const device of devices) {
      await device.submit();
      await device.read(Number.POSITIVE_INFINITY);
    }
    // Settled once a whole round moved no cursor and left nothing in flight (round 0 always reads).
    const after = devices.map((d) => `${d.cursor}:${d.inflight ? 1 : 0}`).join(',');
    if (round > 0 && after === before) break;
  }

  const log = await readLog(url, alice!, channelId);
  const violations = await checkInvariants(channelId, devices, log);
  const sum = (pick: (d: SimE2eeDevice) => number) => devices.reduce((n, d) => n + pick(d), 0);
  return {
    seed,
    violations,
    commitsAccepted: sum((d) => d.counts.accepted),
    staleRefused: sum((d) => d.counts.staleRefused),
    pendingDiscarded: sum((d) => d.counts.pendingDiscarded),
    retriedAfterCrash: sum((d) => d.counts.retriedAfterCrash),
    forksDetected: sum((d) => d.counts.forksDetected),
    rejoins: sum((d) => d.counts.rejoins),
    messages: sent,
    crashes,
  };
}

async function readLog(url: string, user: TestUser, channelId: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const after = all.at(-1)?.seq ?? 0;
    const page = await api<{ messages: Message[] }>(
      url,
      user,
      'GET',
      `/v1/channels/${channelId}/messages?after=${after}&limit=100`,
    );
    all.push(...page.body.messages);
    if (page.body.messages.length < 100) return all;
  }
}

/**
 * The invariants, against the server's log (the one order): every device the server counts as a member is
 * at the server's epoch with the same members and reads a fresh message of every other member; every other
 * device reads none; every accepted message was decrypted, exactly once and in log order, by exactly the
 * devices that were members in its epoch (the sender excepted).
 */
async function checkInvariants(
  channelId: string,
  devices: SimE2eeDevice[],
  log: Message[],
): Promise<string[]> {
  const violations: string[] = [];
  const expected = new Map<string, number[]>(devices.map((d) => [d.key, []]));
  let epoch = 0;
  let members = new Set<string>();
  for (const m of log) {
    const s = m.system;
    if (s?.action === 'mls_commit') {
      if (s.epoch !== epoch + 1)
        violations.push(`seq ${m.seq}: commit for epoch ${s.epoch} after epoch ${epoch}`);
      epoch = s.epoch;
      const next = new Set(members);
      if (next.size === 0) next.add(`${s.actorId}/${s.deviceId}`);
      for (const d of s.removed) next.delete(`${d.userId}/${d.deviceId}`);
      for (const d of s.added) next.add(`${d.userId}/${d.deviceId}`);
      members = next;
    } else if (s?.action === 'mls_message') {
      const sender = `${s.actorId}/${s.deviceId}`;
      if (!members.has(sender)) violations.push(`seq ${m.seq}: a message from non-member ${sender}`);
      for (const key of members) if (key !== sender) expected.get(key)?.push(m.seq);
    }
  }
  for (const device of devices) {
    const got = device.received.map((r) => r.seq);
    const want = expected.get(device.key)!;
    if (got.join(',') !== want.join(','))
      violations.push(`${device.key} decrypted seqs [${got.join(',')}], expected [${want.join(',')}]`);
  }
  const inGroup = devices.filter((d) => members.has(d.key));
  const probes = new Map<SimE2eeDevice, Uint8Array>();
  for (const device of inGroup) {
    if (!device.inGroup) {
      violations.push(`${device.key} is a member on the server but not in the group`);
      continue;
    }
    if (device.engine.epoch(channelId) !== epoch)
      violations.push(`${device.key} is at epoch ${device.engine.epoch(channelId)}, the server at ${epoch}`);
    const seen = device.engine
      .members(channelId)
      .map((m) => `${m.userId}/${m.deviceId}`)
      .sort();
    if (seen.join(',') !== [...members].sort().join(','))
      violations.push(
        `${device.key} sees members [${seen.join(',')}], the server [${[...members].sort().join(',')}]`,
      );
    probes.set(
      device,
      await device.engine.encrypt(channelId, new TextEncoder().encode(`probe ${device.key}`)),
    );
  }
  for (const [sender, probe] of probes) {
    for (const reader of devices) {
      if (reader === sender) continue;
      const read = await reader.engine.decrypt(channelId, probe).then(
        () => true,
        () => false,
      );
      if (read && !members.has(reader.key))
        violations.push(`removed ${reader.key} decrypts ${sender.key}'s probe`);
      if (!read && members.has(reader.key))
        violations.push(`${reader.key} cannot decrypt ${sender.key}'s probe`);
    }
  }
  return violations;
}
