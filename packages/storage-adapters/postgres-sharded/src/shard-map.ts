/**
 * The shard map: an id hashes to one of a fixed number of virtual shards (FNV-1a, 32 bits, over the
 * id's UTF-16 code units, modulo the count), and each virtual shard lives on one server. Channels
 * (and everything of a channel) go by channel id, sync logs by user id; docs/scaling.md has the table.
 */
export class ShardMap {
  constructor(
    /** Server index of each virtual shard. */
    readonly servers: readonly number[],
  ) {}

  /** How many virtual shards ids hash to. */
  get virtualShards(): number {
    return this.servers.length;
  }

  /** The virtual shard of an id. */
  virtualShardOf(id: string): number {
    return fnv1a32(id) % this.servers.length;
  }

  /** The server holding an id's virtual shard. */
  serverOf(id: string): number {
    return this.servers[this.virtualShardOf(id)]!;
  }
}

/** FNV-1a over UTF-16 code units (ids are ASCII: the same as over their bytes). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Where a moderation key lives: keys of one channel (`ban/<channel>/...`, `slow/<channel>`,
 * `turn/<channel>/...`) with the channel, so a ban commits with the member's removal and a slow-mode
 * turn with the message; every other key (blocks, reports) on the home server. A prefix too short
 * to name its channel (`ban/`) also reads on the home server, where no channel key is: the core never
 * lists across channels.
 */
export function channelOfModerationKey(key: string): string | undefined {
  const match = /^(?:ban|slow|turn)\/([^/]+)(?:\/|$)/.exec(key);
  return match?.[1];
}
