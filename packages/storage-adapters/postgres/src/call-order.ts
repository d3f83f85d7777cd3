/**
 * Keeps `write()` calls of one channel in call order although the pool runs writes concurrently.
 * A call hinted with a channel starts after the previous call of that channel settled; a call
 * without a hint may touch any channel, so it is a barrier: it starts after every earlier call
 * settled, and every later call starts after it. Calls of different channels run concurrently.
 */
export class CallOrder {
  /** The newest call of each channel, until it settles. */
  private readonly lastOfChannel = new Map<string, Promise<void>>();
  /** Every call that has not settled. */
  private readonly unsettled = new Set<Promise<void>>();
  /** The newest barrier call. */
  private barrier: Promise<void> = Promise.resolve();

  /** Runs `fn` once the calls it must follow have settled; settles with `fn`. */
  run<T>(channelId: string | undefined, fn: () => Promise<T>): Promise<T> {
    const after =
      channelId === undefined
        ? Promise.all([this.barrier, ...this.unsettled])
        : Promise.all([this.barrier, this.lastOfChannel.get(channelId)]);
    const result = after.then(fn);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.unsettled.add(settled);
    void settled.then(() => this.unsettled.delete(settled));
    if (channelId === undefined) {
      this.barrier = settled;
    } else {
      this.lastOfChannel.set(channelId, settled);
      void settled.then(() => {
        if (this.lastOfChannel.get(channelId) === settled) this.lastOfChannel.delete(channelId);
      });
    }
    return result;
  }

  /** Resolves once every call made so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([this.barrier, ...this.unsettled]);
  }
}
