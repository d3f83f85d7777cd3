/** Something a {@link DeadlineQueue} expires. */
export interface Deadline {
  /** When {@link expire} is due, ms on the queue's clock. */
  readonly deadline: number;
  /** Position in the queue's heap, -1 when not queued. Owned by the queue: do not write. */
  queueIndex: number;
  /** Called once, from the queue's timer, when the deadline has passed. */
  expire(): void;
}

/** Longest delay `setTimeout` accepts; later deadlines are re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Many deadlines behind one timer: a binary min-heap of items, with a single `setTimeout` armed for the
 * earliest. An idle session then costs a slot in an array instead of a `Timeout`, a closure and its
 * context. Adding and removing are O(log n); the timer is re-armed only when the earliest deadline moves
 * earlier, so a stream of sessions whose tokens expire in issue order schedules no timer at all.
 */
export class DeadlineQueue<T extends Deadline = Deadline> {
  private readonly heap: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer is armed for. */
  private armedFor = Number.POSITIVE_INFINITY;

  /** @param now the clock deadlines are on, ms. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Items waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `item` until its deadline (an item already queued is left as it is). */
  add(item: T): void {
    if (item.queueIndex >= 0) return;
    item.queueIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.queueIndex);
    if (item.deadline < this.armedFor) this.arm();
  }

  /** Takes `item` out of the queue; it will not expire. No-op when it is not queued. */
  remove(item: T): void {
    const index = item.queueIndex;
    if (index < 0 || this.heap[index] !== item) return;
    item.queueIndex = -1;
    const last = this.heap.pop() as T;
    if (last !== item) {
      this.heap[index] = last;
      last.queueIndex = index;
      this.down(index);
      this.up(last.queueIndex);
    }
    // An armed timer for a removed item fires once, finds nothing due and re-arms for the new earliest.
    if (this.heap.length === 0) this.disarm();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    try {
      for (let top = this.heap[0]; top !== undefined && top.deadline <= now; top = this.heap[0]) {
        this.remove(top);
        top.expire();
      }
    } finally {
      this.arm();
    }
  };

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.armedFor <= top.deadline) return;
    this.disarm();
    this.armedFor = top.deadline;
    this.timer = setTimeout(this.fire, Math.max(0, Math.min(top.deadline - this.now(), MAX_TIMER_MS)));
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private up(index: number): void {
    const { heap } = this;
    const item = heap[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as T;
      if (parent.deadline <= item.deadline) break;
      heap[index] = parent;
      parent.queueIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.queueIndex = index;
  }

  private down(index: number): void {
    const { heap } = this;
    const item = heap[index] as T;
    const half = heap.length >> 1;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let child = heap[childIndex] as T;
      const right = heap[childIndex + 1];
      if (right !== undefined && right.deadline < child.deadline) {
        childIndex++;
        child = right;
      }
      if (item.deadline <= child.deadline) break;
      heap[index] = child;
      child.queueIndex = index;
      index = childIndex;
    }
    heap[index] = item;
    item.queueIndex = index;
  }
}
