interface Deferred<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  promise: Promise<T>;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Marks the promise handled: an app that ignores it must not crash Node with an unhandled rejection.
  promise.catch(() => {});
  return { resolve, reject, promise };
}

/** The promises handed to the app for outbox entries (`acked` of a send, the result of a change), by id. */
export class Waiters<T> {
  private readonly byId = new Map<string, Deferred<T>>();

  /** The promise of entry `id`: the one handed out already, else a new one. */
  promise(id: string): Promise<T> {
    let waiter = this.byId.get(id);
    if (!waiter) {
      waiter = deferred<T>();
      this.byId.set(id, waiter);
    }
    return waiter.promise;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  resolve(id: string, value: T): void {
    this.byId.get(id)?.resolve(value);
    this.byId.delete(id);
  }

  reject(id: string, err: Error): void {
    this.byId.get(id)?.reject(err);
    this.byId.delete(id);
  }

  rejectAll(err: Error): void {
    for (const waiter of this.byId.values()) waiter.reject(err);
    this.byId.clear();
  }
}
