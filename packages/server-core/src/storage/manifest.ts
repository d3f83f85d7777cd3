import { ErrorCode, NatterError } from '@natter/protocol';
import { STORAGE_CONTRACT_VERSION, type StorageAdapter } from '../ports/storage.js';

const CAPABILITIES = ['search', 'multiProcess', 'persistent'] as const;

/**
 * Checks what a storage adapter declares before the server uses it: the contract version it implements and
 * a well-formed capability list that matches its methods. A clear error at start beats a confusing one on
 * the first message.
 * @throws NatterError STORE_VERSION_UNSUPPORTED naming the adapter and what is wrong.
 */
export function checkStorageManifest(storage: StorageAdapter): void {
  const manifest = storage.manifest as Partial<StorageAdapter['manifest']> | undefined;
  const name = typeof manifest?.name === 'string' ? manifest.name : 'unnamed';
  const refuse = (why: string) =>
    new NatterError(ErrorCode.STORE_VERSION_UNSUPPORTED, `storage adapter '${name}': ${why}`);
  if (!manifest || typeof manifest !== 'object') throw refuse('it has no manifest');
  if (manifest.contractVersion !== STORAGE_CONTRACT_VERSION) {
    throw refuse(
      `it implements storage contract ${String(manifest.contractVersion)}, this server needs ${STORAGE_CONTRACT_VERSION} (see docs/adapters.md)`,
    );
  }
  const capabilities = manifest.capabilities as Record<string, unknown> | undefined;
  for (const capability of CAPABILITIES) {
    if (typeof capabilities?.[capability] !== 'boolean') {
      throw refuse(`manifest.capabilities.${capability} must be true or false`);
    }
  }
  if (capabilities?.search === true && typeof storage.chat.searchMessages !== 'function') {
    throw refuse('it declares search but has no searchMessages()');
  }
  for (const optional of ['lifecycle', 'moderation'] as const) {
    if (capabilities?.[optional] !== undefined && typeof capabilities[optional] !== 'boolean') {
      throw refuse(`manifest.capabilities.${optional} must be true, false or absent`);
    }
  }
  if (capabilities?.moderation === true && !storage.chat.moderation) {
    throw refuse('it declares moderation but has no chat.moderation');
  }
}
