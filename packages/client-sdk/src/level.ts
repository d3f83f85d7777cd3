/**
 * The LevelDB store for Node: `import { LevelStore } from '@natter/client/level'`. A separate entry so that
 * browser and React Native bundles of `@natter/client` never pull in `level`.
 * @packageDocumentation
 */
export { LevelKv, LevelStore } from './stores/level.js';
