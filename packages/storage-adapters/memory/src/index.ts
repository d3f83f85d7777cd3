/**
 * In-memory storage adapter for natter: complete and contract-conformant, for tests and prototypes.
 * @packageDocumentation
 */
export { createMemoryStorage } from './storage.js';
