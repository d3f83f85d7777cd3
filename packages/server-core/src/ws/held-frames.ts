import type { ClientFrame } from '@natter/protocol';

/** Frames that are coalesced past their rate instead of refused: only their latest state matters. */
export type CoalescedFrame = Extract<ClientFrame, { t: 'typing' | 'received' | 'status' }>;

/** Most coalesced frames a session holds at once; past it the oldest is dropped (it was superseded chatter). */
const MAX_HELD = 32;

/**
 * The coalesced frames a rate-limited session holds until its buckets refill: the latest `typing` state
 * per channel, the highest `received` seq per channel, the latest `status`. One timer per session, made only
 * while something is held, so an idle session costs nothing here.
 */
export class HeldFrames {
  private readonly held = new Map<string, CoalescedFrame>();
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(private readonly replay: (frame: CoalescedFrame) => void) {}

  /** Keeps `frame` (merged with what is held for the same key) and replays it after `waitMs`. */
  hold(frame: CoalescedFrame, waitMs: number): void {
    const key = frame.t === 'status' ? 'status' : `${frame.t}:${frame.channelId}`;
    const previous = this.held.get(key);
    // A delivery receipt only ever moves forward: keep the highest seq seen.
    const merged =
      previous?.t === 'received' && frame.t === 'received' && previous.seq > frame.seq ? previous : frame;
    this.held.delete(key);
    this.held.set(key, merged);
    while (this.held.size > MAX_HELD) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) break;
      this.held.delete(oldest);
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(1, waitMs));
      this.timer.unref?.();
    }
  }

  /** Number of frames held (for tests). */
  get size(): number {
    return this.held.size;
  }

  /** Drops everything held (the session closed). */
  clear(): void {
    this.held.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const frames = [...this.held.values()];
    this.held.clear();
    // Each replay passes the rate check again; one still refused is held again (and re-arms the timer).
    for (const frame of frames) this.replay(frame);
  }
}
