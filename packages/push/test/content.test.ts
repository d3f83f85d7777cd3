import { describe, expect, it } from 'vitest';
import { contentOf } from '../src/payload.js';

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
});
