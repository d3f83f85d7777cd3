import type { ConformanceCheck } from '../harness.js';
import { accountChecks } from './accounts.js';
import { appendChecks } from './append.js';
import { attachmentChecks } from './attachments.js';
import { channelChecks } from './channels.js';
import { concurrencyChecks } from './concurrency.js';
import { durabilityChecks } from './durability.js';
import { e2eeChecks } from './e2ee.js';
import { historyChecks } from './history.js';
import { isolationChecks } from './isolation.js';
import { lifecycleChecks, lifecycleRuleChecks } from './lifecycle.js';
import { mentionChecks } from './mentions.js';
import { messageChangeChecks } from './message-changes.js';
import { moderationChecks } from './moderation.js';
import { reactionThreadChecks, unreadChecks } from './reactions-threads.js';
import { rollbackChecks } from './rollback.js';
import { searchChecks } from './search.js';
import { sendChecks } from './send.js';
import { syncChecks } from './sync.js';

/**
 * Every check of the storage contract, by name. `runStorageConformance` registers all of them;
 * pass one to `runCheck` to run it on its own.
 */
export const storageChecks = {
  ...lifecycleChecks,
  ...lifecycleRuleChecks,
  ...accountChecks,
  ...channelChecks,
  ...appendChecks,
  ...rollbackChecks,
  ...concurrencyChecks,
  ...historyChecks,
  ...isolationChecks,
  ...syncChecks,
  ...mentionChecks,
  ...searchChecks,
  ...sendChecks,
  ...unreadChecks,
  ...messageChangeChecks,
  ...reactionThreadChecks,
  ...attachmentChecks,
  ...moderationChecks,
  ...e2eeChecks,
  ...durabilityChecks,
} satisfies Record<string, ConformanceCheck>;

/** Name of a check in {@link storageChecks}. */
export type StorageCheckName = keyof typeof storageChecks;
