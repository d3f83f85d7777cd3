import { ErrorCode, NatterError } from '@natter/server-core';

/** True for a SQLite UNIQUE or PRIMARY KEY violation (better-sqlite3's `SqliteError.code`). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Runs `fn`, turning a uniqueness violation into NatterError CONFLICT with `message`. */
export function conflictOnDuplicate<T>(message: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isUniqueViolation(error)) throw new NatterError(ErrorCode.CONFLICT, message);
    throw error;
  }
}
