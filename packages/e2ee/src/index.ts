/**
 * natter's end-to-end encryption: the client-side MLS (RFC 9420) engine port, its ts-mls adapter, device
 * identities with fingerprints and safety numbers, the MLS header reader for the Delivery Service, and the
 * error codes. docs/e2ee.md explains the design.
 * @packageDocumentation
 */
export * from './errors.js';
export {
  decodeDeviceCredential,
  deviceFingerprint,
  encodeDeviceCredential,
  safetyNumber,
  sameDevice,
} from './identity.js';
export * from './mls-header.js';
export type * from './port.js';
export { createTsMlsEngine, type TsMlsEngineOptions } from './ts-mls/engine.js';
export { type DeviceAuthenticator, SUITE } from './ts-mls/suite.js';
