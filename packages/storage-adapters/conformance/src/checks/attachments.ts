import { type Attachment, DEFAULT_LIMITS } from '@natter/protocol';
import type { MediaClaim, StorageAdapter } from '@natter/server-core';
import { ChatService } from '@natter/server-core/internals';
import { expect } from 'vitest';
import { append, createChannel, stored, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

const photo: Attachment = {
  mediaId: 'm_photo',
  kind: 'image',
  mime: 'image/jpeg',
  size: 123_456,
  filename: 'Ünïcode "photo".jpg',
  width: 2048,
  height: 1536,
  placeholder: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
  thumbnails: [
    { size: 320, width: 320, height: 240 },
    { size: 800, width: 800, height: 600 },
  ],
};
const report: Attachment = {
  mediaId: 'm_pdf',
  kind: 'file',
  mime: 'application/pdf',
  size: 9,
  filename: 'report.pdf',
  thumbnails: [],
};

/** Messages carry their attachments' metadata (contract 6). */
export const attachmentChecks = {
  attachmentsRoundTrip: defineCheck(
    'appendMessage',
    'a message keeps its attachments in every read; one without has no attachments field',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const withFiles = textMessage('c1', 'u_alice', {
        clientMsgId: 'cm-1',
        text: '',
        attachments: [photo, report],
      });
      const plain = textMessage('c1', 'u_bob');
      expect((await append(adapter, withFiles, ['u_alice', 'u_bob'])).message).toEqual(stored(withFiles, 1));
      expect((await append(adapter, plain, ['u_alice', 'u_bob'])).message).toEqual(stored(plain, 2));
      expect(await adapter.chat.getMessage('c1', 1)).toEqual(stored(withFiles, 1));
      const plainRead = await adapter.chat.getMessage('c1', 2);
      expect(plainRead).toEqual(stored(plain, 2));
      expect(plainRead).not.toHaveProperty('attachments');
      const page = await adapter.chat.readHistory('c1', { after: 0, limit: 10, minSeq: 1 });
      expect(page.messages.map((m) => m.attachments)).toEqual([[photo, report], undefined]);
      const sync = await adapter.chat.readSync('u_bob', 0, 10);
      expect(sync.map((e) => e.kind === 'message' && e.message.attachments)).toEqual([
        [photo, report],
        undefined,
      ]);
      const byKey = await adapter.chat.write((tx) => tx.findByClientMsgId('u_alice', 'cm-1'));
      expect(byKey?.message.attachments).toEqual([photo, report]);
    },
  ),

  attachmentsThroughSend: defineCheck(
    'send',
    "a send's claimed attachments are stored, and a retry answers the original with them",
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const commits: number[] = [];
      const claim = async (): Promise<MediaClaim> => ({
        attachments: [photo],
        commit: async (seq) => {
          commits.push(seq);
        },
        cancel: async () => undefined,
      });
      const service = new ChatService({
        chat: adapter.chat,
        accounts: adapter.accounts,
        limits: DEFAULT_LIMITS,
        sink: { deliver: () => undefined },
        media: { claim, releaseMessage: async () => undefined },
      });
      const input = {
        channelId: 'c1',
        clientMsgId: 'cm-a',
        text: '',
        attachments: [{ mediaId: photo.mediaId }],
      };
      const first = await service.sendMessage('u_alice', input);
      const retry = await service.sendMessage('u_alice', input);
      expect(first.entry.message.attachments).toEqual([photo]);
      expect(retry.duplicate).toBe(true);
      expect(retry.entry.message.attachments).toEqual([photo]);
      expect(commits).toEqual([1, 1]);
      expect((await adapter.chat.getMessage('c1', 1))?.attachments).toEqual([photo]);
    },
  ),

  attachmentsErasedOnDelete: defineCheck(
    'lifecycle',
    'a deleted message keeps no attachments in any read, on reopen too',
    async (context) => {
      const { adapter } = context;
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      const withFiles = textMessage('c1', 'u_alice', { clientMsgId: 'cm-d', attachments: [photo, report] });
      await append(adapter, withFiles, ['u_alice', 'u_bob']);
      const service = new ChatService({
        chat: adapter.chat,
        accounts: adapter.accounts,
        limits: DEFAULT_LIMITS,
        sink: { deliver: () => undefined },
      });
      await service.lifecycle.delete('u_alice', { clientId: 'del-1', channelId: 'c1', seq: 1 });
      const check = async (store: StorageAdapter) => {
        expect(await store.chat.getMessage('c1', 1)).not.toHaveProperty('attachments');
        const page = await store.chat.readHistory('c1', { after: 0, limit: 10, minSeq: 1 });
        expect(page.messages[0]).not.toHaveProperty('attachments');
        const sync = await store.chat.readSync('u_bob', 0, 10);
        expect(sync.some((e) => 'message' in e && e.message.attachments !== undefined)).toBe(false);
      };
      await check(adapter);
      if (context.reopen) await check(await context.reopen());
    },
    { needsCapability: 'lifecycle' },
  ),
};
