import { describe, expect, it } from 'vitest';
import { buildPayload, contentOf, labelOf } from '../src/payload.js';

const attachment = (kind: 'image' | 'video' | 'file') => ({
  mediaId: 'm_1',
  kind,
  mime: 'application/octet-stream',
  size: 1,
  filename: 'x',
  thumbnails: [],
});

describe('notification content', () => {
  it('says Photo, Video or File for attachment messages, with the caption after it', () => {
    expect(contentOf({ text: '', attachments: [attachment('image')] })).toBe('Photo');
    expect(contentOf({ text: '', attachments: [attachment('video')] })).toBe('Video');
    expect(contentOf({ text: 'the report', attachments: [attachment('file'), attachment('image')] })).toBe(
      'File: the report',
    );
    expect(contentOf({ text: 'plain' })).toBe('plain');
  });

  it('without content, an attachment message still says Photo, and a text message says nothing', () => {
    const pending = {
      userId: 'u_b',
      channelId: 'c1',
      count: 1,
      latestSeq: 3,
      latestMessageId: 'm3',
      latestSenderId: 'u_a',
      firstAt: 1,
      dueAt: 1,
    };
    expect(labelOf({ attachments: [attachment('image')] })).toBe('Photo');
    expect(labelOf({})).toBeNull();
    const photo = buildPayload(
      { ...pending, latestText: labelOf({ attachments: [attachment('image')] }) },
      'n1',
      false,
    );
    expect(photo.label).toBe('Photo');
    expect(photo.latest).toBeUndefined();
    const text = buildPayload({ ...pending, latestText: null }, 'n2', false);
    expect(text).not.toHaveProperty('label');
    expect(text).not.toHaveProperty('latest');
    const withContent = buildPayload({ ...pending, latestText: 'Photo: beach' }, 'n3', true);
    expect(withContent.latest).toEqual({ senderId: 'u_a', text: 'Photo: beach' });
  });
});
