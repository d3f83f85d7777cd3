import { newId } from '@natter/protocol';
import { internalsOf } from '@natter/server-core/internals';
import { inBatches, range, stampedText } from './setup-plan.mjs';

/**
 * Creates a plan's users, tokens, channels and backlog through the engine of `server` (storage.accounts,
 * the token and chat services through `internalsOf`), as natter-server.mjs does: signing up thousands of
 * users over HTTP would cost scrypt time. Returns the users with their tokens and the channel ids.
 */
export async function seedPlan(server, storage, plan) {
  const createdAt = Date.now();
  const ids = range(plan.users).map(() => `u_${newId()}`);
  // Concurrent calls share group-commit batches; one at a time would be one fsync per user.
  await inBatches(ids, 512, (id, i) =>
    storage.accounts.createUser({
      id,
      username: `bench${i}_${id.slice(-6).toLowerCase()}`,
      displayName: `bench ${i}`,
      passwordHash: null,
      createdAt,
    }),
  );
  const engine = internalsOf(server);
  const users = await inBatches(ids, 512, async (id, i) => {
    const deviceId = `dev${i}`;
    const { accessToken } = await engine.tokens.issue(id, deviceId);
    return { id, token: accessToken, deviceId };
  });
  const direct = await inBatches(range(plan.directPairs ?? 0), 128, async (i) => {
    const channel = await engine.service.openDirect(ids[2 * i], ids[2 * i + 1]);
    return channel.id;
  });
  const groups = [];
  if (plan.group) {
    const members = ids.slice(0, plan.group);
    groups.push((await engine.service.createGroup(members[0], 'bench group', members.slice(1))).id);
  }
  // The catch-up backlog: user 1 wrote to user 0 while user 0 was away.
  await inBatches(range(plan.preload?.messages ?? 0), 256, (i) =>
    engine.service.sendMessage(ids[1], {
      channelId: direct[0],
      clientMsgId: `pre${i}`,
      text: stampedText(0),
    }),
  );
  return { users, direct, groups };
}
