import { describe, expect, it } from 'vitest';
import {
  MAX_RESUME_ENTRIES,
  RESUMABLE_UPLOADS_META_KEY,
  RESUME_ENTRY_TTL_MS,
  ResumableUploads,
  uploadFingerprint,
} from '../src/resumable-uploads.js';
import { MemoryStore } from '../src/stores/memory.js';

async function setup() {
  const store = new MemoryStore();
  await store.open();
  const clock = { now: 1_000_000 };
  return { store, clock, uploads: new ResumableUploads(store, () => clock.now) };
}

describe('resumable upload URLs in the client store', () => {
  it('saves, finds and forgets a URL, and a new instance on the same store finds it', async () => {
    const { store, clock, uploads } = await setup();
    await uploads.save('fp-a', 'http://h/v1/media/uploads/a');
    expect(await uploads.find('fp-a')).toBe('http://h/v1/media/uploads/a');
    expect(await new ResumableUploads(store, () => clock.now).find('fp-a')).toBe(
      'http://h/v1/media/uploads/a',
    );
    await uploads.forget('fp-a');
    expect(await uploads.find('fp-a')).toBeUndefined();
  });

  it('ignores URLs older than the server keeps unfinished uploads, and drops them on the next write', async () => {
    const { store, clock, uploads } = await setup();
    await uploads.save('old', 'http://h/u/old');
    clock.now += RESUME_ENTRY_TTL_MS;
    expect(await uploads.find('old')).toBeUndefined();
    await uploads.save('new', 'http://h/u/new');
    expect(Object.keys(JSON.parse((await store.getMeta(RESUMABLE_UPLOADS_META_KEY))!))).toEqual(['new']);
  });

  it('keeps the newest entries within the bound, and concurrent saves of one instance all land', async () => {
    const { clock, uploads } = await setup();
    await Promise.all(
      Array.from({ length: MAX_RESUME_ENTRIES + 5 }, (_, i) => {
        clock.now += 1;
        return uploads.save(`fp-${i}`, `http://h/u/${i}`);
      }),
    );
    expect(await uploads.find(`fp-${MAX_RESUME_ENTRIES + 4}`)).toBe(`http://h/u/${MAX_RESUME_ENTRIES + 4}`);
    expect(await uploads.find('fp-5')).toBe('http://h/u/5');
    expect(await uploads.find('fp-4')).toBeUndefined();
  });

  it('treats a damaged stored value as empty', async () => {
    const { store, uploads } = await setup();
    await store.setMeta(RESUMABLE_UPLOADS_META_KEY, '{not json');
    expect(await uploads.find('x')).toBeUndefined();
    await uploads.save('x', 'http://h/u/x');
    expect(await uploads.find('x')).toBe('http://h/u/x');
  });

  it('fingerprints the bytes with the user and the server', async () => {
    const bytes = new TextEncoder().encode('hello');
    const a = await uploadFingerprint('http://h', 'u1', bytes);
    expect(a).toBe('http://h|u1|2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(await uploadFingerprint('http://h', 'u2', bytes)).not.toBe(a);
  });
});
