/**
 * A latency histogram in the spirit of HdrHistogram: 1 µs buckets below 1 ms, then buckets 1% wide,
 * so percentiles are within 1% at any scale, memory stays fixed however many samples arrive, and the
 * histograms of several load processes merge by adding counts.
 */
const LINEAR_US = 1000;
const GROWTH = Math.log(1.01);

const bucketOf = (us) =>
  us < LINEAR_US ? Math.max(0, Math.floor(us)) : LINEAR_US + Math.floor(Math.log(us / LINEAR_US) / GROWTH);
const lowerBoundOf = (bucket) =>
  bucket < LINEAR_US ? bucket : LINEAR_US * Math.exp((bucket - LINEAR_US) * GROWTH);

export class Histogram {
  constructor() {
    this.counts = new Map();
    this.total = 0;
    this.max = 0;
  }

  /** Records one latency in milliseconds. */
  record(ms) {
    if (!Number.isFinite(ms)) return;
    const bucket = bucketOf(ms * 1000);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** A plain object for IPC. */
  toJSON() {
    return { counts: [...this.counts], total: this.total, max: this.max };
  }

  static merge(parts) {
    const out = new Histogram();
    for (const part of parts) {
      if (!part) continue;
      for (const [bucket, n] of part.counts) out.counts.set(bucket, (out.counts.get(bucket) ?? 0) + n);
      out.total += part.total;
      out.max = Math.max(out.max, part.max);
    }
    return out;
  }

  /** The latency (ms) at quantile q in [0, 1]; the bucket's lower bound, so never an overstatement. */
  quantile(q) {
    if (this.total === 0) return null;
    const rank = Math.min(this.total, Math.max(1, Math.ceil(q * this.total)));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket);
      if (seen >= rank) return lowerBoundOf(bucket) / 1000;
    }
    return this.max;
  }

  summary() {
    const r = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      samples: this.total,
      p50: r(this.quantile(0.5)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.total ? this.max : null),
    };
  }
}
