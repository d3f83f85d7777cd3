import type { RunReport } from './run-scenario.js';
import { FAULT_KINDS, type FaultKind } from './scenario.js';
import type { NetworkStats } from './sim-network.js';

/** Sums of many runs, for the summary line (and docs/reliability.md). */
export class Totals {
  runs = 0;
  sends = 0;
  changes = 0;
  changeFailures = 0;
  eventsChecked = 0;
  maxSettleMs = 0;
  rolledBackWrites = 0;
  duplicateAcks = 0;
  retries = 0;
  lostToKills = 0;
  readonly faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  readonly network: Partial<NetworkStats> = {};

  add(report: RunReport): void {
    this.runs++;
    this.sends += report.sends;
    this.changes += report.changes;
    this.changeFailures += report.changeFailures;
    this.eventsChecked += report.eventsChecked;
    this.maxSettleMs = Math.max(this.maxSettleMs, report.settleMs);
    this.rolledBackWrites += report.rolledBackWrites;
    this.duplicateAcks += report.duplicateAcks;
    this.retries += report.retries;
    this.lostToKills += report.lostToKills;
    for (const kind of FAULT_KINDS) this.faults[kind] += report.faults[kind];
    for (const [key, value] of Object.entries(report.network) as [keyof NetworkStats, number][]) {
      this.network[key] = (this.network[key] ?? 0) + value;
    }
  }

  summary(): string {
    const n = this.network;
    const faults = FAULT_KINDS.map((k) => `${k} ${this.faults[k]}`).join(', ');
    return (
      `${this.runs} runs: ${this.sends} sends (${this.lostToKills} lost to an app kill before their outbox ` +
      `write landed), ${this.changes} edits/deletes/reactions (${this.changeFailures} failed with a typed code), ` +
      `${this.eventsChecked} entry events checked; ` +
      `scheduled faults: ${faults}; network: ${n.drops ?? 0} frame drops (connection lost), ` +
      `${n.resets ?? 0} resets in all, ${n.duplicatedToServer ?? 0} client frames and ` +
      `${n.duplicatedToClient ?? 0} server entries duplicated, ${n.refusedConnects ?? 0} refused connects, ` +
      `${n.serverCloses ?? 0} server closes (${n.policyCloses ?? 0} slow-consumer/policy 1008, ` +
      `${n.heartbeatCloses ?? 0} heartbeat 4008), ${n.rateLimited ?? 0} sends rate-limited, ` +
      `${(n.framesToServer ?? 0) + (n.framesToClient ?? 0)} frames; ` +
      `${this.rolledBackWrites} server writes rolled back by crashes, ${this.retries} outbox resends, ` +
      `${n.duplicateAcks ?? 0} sends answered duplicate: true (${this.duplicateAcks} of them settling a resend); ` +
      `slowest settle ${(this.maxSettleMs / 1000).toFixed(1)} s simulated`
    );
  }
}
