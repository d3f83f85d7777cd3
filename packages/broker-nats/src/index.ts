/**
 * NATS adapter for scaling natter out: {@link NatsBroker}, natter's `Broker` on core NATS publish/subscribe
 * (`@nats-io/transport-node`).
 * @packageDocumentation
 */
export { BrokerError, BrokerErrorCode, isBrokerError } from './errors.js';
export { createNatsBroker, NatsBroker, type NatsBrokerOptions } from './nats-broker.js';
