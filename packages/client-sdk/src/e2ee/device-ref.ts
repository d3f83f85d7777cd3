import type { DeviceRef, E2eeErrorCode } from '@natter/e2ee';

/**
 * Small helpers the SDK needs on every encrypted entry, kept here rather than imported from `@natter/e2ee`
 * so that the MLS library is loaded only when an app turns E2EE on (see persisted-engine.ts).
 */

/** The same device of the same user. */
export function sameDevice(a: DeviceRef, b: DeviceRef): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

/** True for a code of the protocol's end-to-end encryption errors (`NATTER_E2EE_*`). */
export function isE2eeCode(code: string | undefined): code is E2eeErrorCode {
  return code?.startsWith('NATTER_E2EE_') ?? false;
}
