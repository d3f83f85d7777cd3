import { describe, expect, it } from 'vitest';
import { contentDisposition, MAX_FILENAME_BYTES, sanitizeFilename } from '../src/index.js';
import { from, pdf, testPipeline } from './fixtures.js';

describe('sanitizeFilename', () => {
  it('keeps only the last path segment, so no path traversal survives', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFilename('..\\..\\windows\\win.ini')).toBe('win.ini');
    expect(sanitizeFilename('/absolute/path/photo.jpg')).toBe('photo.jpg');
    expect(sanitizeFilename('..')).toBe('file');
    expect(sanitizeFilename('../', 'pdf')).toBe('file.pdf');
  });

  it('removes control characters and bidi overrides', () => {
    expect(sanitizeFilename('a\u0000b\r\nc\u0007.txt')).toBe('abc.txt');
    expect(sanitizeFilename('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
  });

  it('replaces characters reserved on common filesystems and in quoted headers', () => {
    expect(sanitizeFilename('a"b*c:d<e>f?g|h.txt')).toBe('a_b_c_d_e_f_g_h.txt');
  });

  it('trims dots and spaces at the ends and defuses Windows device names', () => {
    expect(sanitizeFilename('  .hidden.  ')).toBe('hidden');
    expect(sanitizeFilename('CON.txt')).toBe('_CON.txt');
  });

  it('shortens long names to 255 UTF-8 bytes, keeping the extension and whole characters', () => {
    const long = `${'é'.repeat(300)}.jpeg`;
    const clean = sanitizeFilename(long);
    expect(new TextEncoder().encode(clean).byteLength).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(clean.endsWith('.jpeg')).toBe(true);
    expect(clean).not.toContain('\uFFFD');
  });

  it('falls back to file plus the sniffed extension when no name is given', () => {
    expect(sanitizeFilename(undefined, 'png')).toBe('file.png');
    expect(sanitizeFilename('\u0000\u0001', 'png')).toBe('file.png');
  });
});

describe('contentDisposition', () => {
  it('gives an ASCII fallback and the UTF-8 name, as attachment unless inline is asked', () => {
    expect(contentDisposition('Grüße "2024".pdf')).toBe(
      `attachment; filename="Gr__e _2024_.pdf"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20_2024_.pdf`,
    );
    expect(contentDisposition('a.png', true)).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
  });
});

describe('the pipeline', () => {
  it('records a path-traversal filename sanitised', async () => {
    const harness = await testPipeline();
    try {
      const info = await harness.pipeline.ingest(from(pdf()), {
        filename: '../../../../etc/cron.d/evil.pdf',
      });
      expect(info.filename).toBe('evil.pdf');
    } finally {
      await harness.cleanup();
    }
  });
});
