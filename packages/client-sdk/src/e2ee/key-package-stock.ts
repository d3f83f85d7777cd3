import type { MlsEngine } from '@natter/e2ee';
import { toBase64 } from '../base64.js';

/** The server's KeyPackage store for this device, as the stock keeper needs it (the wire lives elsewhere). */
export interface KeyPackageDirectory {
  /** How many single-use KeyPackages the server still holds for this device. */
  stock(): Promise<number>;
  /** Uploads single-use KeyPackages and/or a new last-resort one; answers the single-use stock after it. */
  upload(batch: { keyPackages: readonly Uint8Array[]; lastResort?: Uint8Array }): Promise<number>;
}

/** Where the stock keeper remembers which last-resort KeyPackage it uploaded (the client store's meta). */
export interface KeyPackageMeta {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/** Options of {@link KeyPackageStock}. */
export interface KeyPackageStockOptions {
  /** Single-use KeyPackages to keep on the server. @default 50 */
  target?: number;
  /** Replenish when the server holds fewer than this. @default 10 */
  low?: number;
  /** The meta key of the uploaded last-resort KeyPackage (one per device in a shared store). */
  metaKey: string;
}

/**
 * Keeps this device claimable: a stock of single-use KeyPackages on the server (topped up to `target` when it
 * falls under `low`, e.g. after the server said it runs low) and the current last-resort one (the engine
 * renews it a week before expiry; it is uploaded again whenever it changed). Bounded: never more than
 * `target` are made per call, and the engine holds the private keys of at most what the server may still hand out.
 */
export class KeyPackageStock {
  private readonly target: number;
  private readonly low: number;
  private running: Promise<number> | undefined;

  constructor(
    private readonly engine: MlsEngine,
    private readonly directory: KeyPackageDirectory,
    private readonly meta: KeyPackageMeta,
    private readonly options: KeyPackageStockOptions,
  ) {
    this.target = options.target ?? 50;
    this.low = options.low ?? 10;
    if (!(this.target >= 1) || !(this.low >= 0) || this.low > this.target)
      throw new RangeError('KeyPackage stock needs 0 <= low <= target and target >= 1');
  }

  /**
   * Tops the stock up and renews the last-resort KeyPackage if needed; concurrent calls share one run.
   * Resolves with how many single-use KeyPackages were uploaded.
   */
  replenish(): Promise<number> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<number> {
    const lastResort = await this.engine.lastResortKeyPackage();
    const fingerprint = await sha256Base64(lastResort);
    const renewLastResort = (await this.meta.getMeta(this.options.metaKey)) !== fingerprint;
    const stock = await this.directory.stock();
    const missing = stock < this.low ? this.target - stock : 0;
    if (missing === 0 && !renewLastResort) return 0;
    const keyPackages = missing > 0 ? await this.engine.generateKeyPackages(missing) : [];
    await this.directory.upload({ keyPackages, ...(renewLastResort ? { lastResort } : {}) });
    if (renewLastResort) await this.meta.setMeta(this.options.metaKey, fingerprint);
    return keyPackages.length;
  }
}

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const copy = bytes.slice().buffer as ArrayBuffer;
  return toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', copy)));
}
