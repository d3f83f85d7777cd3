// The codes and the error class are server-core's, shared by every scale-out adapter.
export { BrokerError, BrokerErrorCode, isBrokerError } from '@natter/server-core';

/** The message of an unknown thrown value. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
