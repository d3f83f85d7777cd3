/**
 * Orders this process's sharded writes. A write for one channel is `shared`: it reserves its part on
 * the channel's server at once, and the server's queue keeps the call order. A write that may touch
 * several servers (no hint, or a second channel) is `exclusive`: it waits for every earlier write of
 * the process and later writes wait for it, then opens its parts as it goes. Reserving parts on every
 * server instead would let a part its function never uses hold back the server's batch, whose
 * grouped appends wait for every call of the batch: two such writes would wait on each other.
 */
export class WriteGate {
  /** Settles when the last exclusive write queued so far is done. */
  private exclusiveDone: Promise<void> = Promise.resolve();
  private exclusivePending = 0;
  /** Shared writes since the last exclusive one, until they end. */
  private readonly shared = new Set<Promise<void>>();

  /**
   * Enters a shared write; `start` runs synchronously when no exclusive write is queued (so the part
   * is reserved in call order), else once the queued exclusive writes are done. Returns the release.
   */
  enterShared(): { ready: Promise<void> | undefined; release: () => void } {
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.shared.add(done);
    void done.then(() => this.shared.delete(done));
    const ready = this.exclusivePending > 0 ? this.exclusiveDone : undefined;
    return { ready, release };
  }

  /** Enters an exclusive write: resolves once every earlier write is done. Returns the release. */
  async enterExclusive(): Promise<() => void> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const earlier = Promise.all([this.exclusiveDone, ...this.shared]);
    this.exclusiveDone = earlier.then(() => done);
    this.exclusivePending++;
    void done.then(() => {
      this.exclusivePending--;
    });
    await earlier;
    return release;
  }
}
