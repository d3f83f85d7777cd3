/**
 * The one cipher suite natter uses and the ts-mls client configuration around it. Suite 1
 * (X25519, AES-128-GCM, SHA-256, Ed25519) is the RFC's mandatory-to-implement suite: every MLS library
 * speaks it (the comparison bench joined ts-mls and OpenMLS devices in one group with it).
 */
import {
  type AuthenticationService,
  type CiphersuiteImpl,
  type ClientConfig,
  type Credential,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  nobleCryptoProvider,
} from 'ts-mls';
import { decodeDeviceCredential } from '../identity.js';
import type { DevicePublicIdentity } from '../port.js';

/** The cipher suite of every natter group. */
export const SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';

let suite: Promise<CiphersuiteImpl> | undefined;

/**
 * The suite's implementation, made once. The pure-JavaScript @noble provider rather than ts-mls' WebCrypto
 * one: faster in the bench (Node and Chromium: no per-call key import), and it needs WebCrypto only for
 * HPKE's AES-GCM and random bytes, which React Native gets from one polyfill.
 */
export function cipherSuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(SUITE), nobleCryptoProvider);
  return suite;
}

/** Decides whether a device (credential plus signature key) may be in a group. */
export type DeviceAuthenticator = (device: DevicePublicIdentity) => boolean | Promise<boolean>;

/** ts-mls' authentication service: the credential must be a natter device identity the app accepts. */
function authenticationService(authenticate: DeviceAuthenticator | undefined): AuthenticationService {
  return {
    async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
      if (credential.credentialType !== 'basic') return false;
      const device = decodeDeviceCredential(credential.identity);
      if (!device) return false;
      return authenticate ? authenticate({ ...device, signaturePublicKey }) : true;
    },
  };
}

/** The ts-mls client configuration of one engine. */
export function clientConfig(authenticate: DeviceAuthenticator | undefined): ClientConfig {
  return {
    // Keep receiver keys of a few past epochs: messages sent just before a commit still decrypt after it.
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    paddingConfig: defaultPaddingConfig,
    authService: authenticationService(authenticate),
  };
}
