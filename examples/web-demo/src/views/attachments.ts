/**
 * Photos and files in the demo: the attach button, drag and drop, pasting an image, the upload progress
 * bar, attachment rendering (ThumbHash placeholder, then the thumbnail through a signed URL), the
 * lightbox for the full image, and file cards with name and size. Kept apart from the message list and
 * the composer, which only call in here.
 */
import type { Message } from '@natter/client';
import { thumbHashToDataURL } from 'thumbhash';
import type { ChatController } from '../controller.js';
import { h } from '../dom.js';

type Attachment = NonNullable<Message['attachments']>[number];

/** Signed URLs by media id and size; they last an hour, the demo asks again after 50 minutes. */
const urls = new Map<string, { url: Promise<string>; at: number }>();
function signedUrl(ctrl: ChatController, mediaId: string, thumbnailSize?: number): Promise<string> {
  const key = `${mediaId}:${thumbnailSize ?? 'full'}`;
  const cached = urls.get(key);
  if (cached && Date.now() - cached.at < 50 * 60_000) return cached.url;
  const url = ctrl.client.mediaUrl(mediaId, thumbnailSize === undefined ? {} : { thumbnailSize });
  urls.set(key, { url, at: Date.now() });
  url.catch(() => urls.delete(key));
  return url;
}

function placeholderUrl(placeholder: string | undefined): string | undefined {
  if (!placeholder) return undefined;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(placeholder), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Opens the full image over the page; Escape or a click closes it. */
function openLightbox(ctrl: ChatController, a: Attachment): void {
  const img = h('img', { class: 'lightbox-image', alt: a.filename });
  const dialog = h(
    'dialog',
    { class: 'lightbox', 'aria-label': a.filename, onclick: () => dialog.close() },
    img,
    h('p', { class: 'lightbox-caption' }, a.filename),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  void signedUrl(ctrl, a.mediaId).then((url) => {
    img.src = url;
  });
}

function imageTile(ctrl: ChatController, a: Attachment): HTMLElement {
  const thumb = a.thumbnails[0];
  const width = thumb?.width ?? 240;
  const height = thumb?.height ?? 180;
  const scale = Math.min(1, 240 / width);
  const img = h('img', {
    class: 'attachment-image',
    alt: a.filename,
    width: String(Math.round(width * scale)),
    height: String(Math.round(height * scale)),
    'data-state': 'placeholder',
  });
  const blur = placeholderUrl(a.placeholder);
  if (blur) img.src = blur;
  // The thumbnail replaces the placeholder once it has loaded, so nothing flashes empty.
  void signedUrl(ctrl, a.mediaId, thumb?.size).then((url) => {
    const loader = new Image();
    loader.onload = () => {
      img.src = url;
      img.dataset.state = 'thumbnail';
    };
    loader.src = url;
  });
  return h(
    'button',
    {
      type: 'button',
      class: 'attachment image',
      'aria-label': `Open ${a.filename}`,
      onclick: () => openLightbox(ctrl, a),
    },
    img,
  );
}

function fileCard(ctrl: ChatController, a: Attachment): HTMLElement {
  const link = h(
    'a',
    {
      class: 'attachment file',
      href: '#',
      onclick: (event: Event) => {
        event.preventDefault();
        void signedUrl(ctrl, a.mediaId).then((url) => window.open(url, '_blank', 'noopener'));
      },
    },
    h(
      'span',
      { class: 'file-icon', 'aria-hidden': 'true' },
      (a.filename.split('.').pop() ?? 'file').slice(0, 4).toUpperCase(),
    ),
    h('span', { class: 'file-name' }, a.filename),
    h('span', { class: 'file-size' }, formatBytes(a.size)),
  );
  return link;
}

/** The attachments of a message, or null when it has none. */
export function attachmentsOf(ctrl: ChatController, m: Message): HTMLElement | null {
  if (!m.attachments?.length) return null;
  return h(
    'div',
    { class: 'attachments' },
    m.attachments.map((a) => (a.kind === 'image' ? imageTile(ctrl, a) : fileCard(ctrl, a))),
  );
}

/** Uploads files with a progress bar, then sends them in one message with `caption`. */
async function uploadAndSend(
  ctrl: ChatController,
  files: readonly File[],
  caption: string,
  progress: HTMLProgressElement,
): Promise<boolean> {
  const channel = ctrl.active;
  if (!channel || files.length === 0) return false;
  const total = files.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  progress.hidden = false;
  progress.value = 0;
  try {
    const ids: Array<{ mediaId: string }> = [];
    for (const file of files) {
      const media = await ctrl.client.upload(file, {
        onProgress: (sent) => {
          progress.value = total === 0 ? 1 : (done + sent) / total;
        },
      });
      done += file.size;
      ids.push({ mediaId: media.id });
    }
    ctrl.client.send(channel.id, caption.trim(), { attachments: ids });
    return true;
  } catch (err) {
    ctrl.notify(`Upload failed: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  } finally {
    progress.hidden = true;
  }
}

/**
 * The composer's media controls: an attach button with its file input, a progress bar, and drop and paste
 * handling on `area`. `caption()` reads (and `sent()` clears) the composer's text, sent with the files.
 */
export function createAttachControls(
  ctrl: ChatController,
  area: HTMLElement,
  composer: { caption(): string; sent(): void },
): { button: HTMLElement; input: HTMLInputElement; progress: HTMLProgressElement } {
  const progress = h('progress', {
    class: 'upload-progress',
    max: '1',
    value: '0',
    'aria-label': 'Upload progress',
  });
  progress.hidden = true;
  const send = (files: File[]) =>
    void uploadAndSend(ctrl, files, composer.caption(), progress).then((ok) => ok && composer.sent());
  const input = h('input', {
    type: 'file',
    multiple: '',
    class: 'sr-only',
    id: 'attach-input',
    'aria-label': 'Attach files',
  });
  input.addEventListener('change', () => {
    send([...(input.files ?? [])]);
    input.value = '';
  });
  const button = h(
    'button',
    { type: 'button', class: 'attach', 'aria-label': 'Attach a photo or file', onclick: () => input.click() },
    '+',
  );
  area.addEventListener('dragover', (event: DragEvent) => {
    if (event.dataTransfer?.types.includes('Files')) {
      event.preventDefault();
      area.classList.add('dropping');
    }
  });
  area.addEventListener('dragleave', () => area.classList.remove('dropping'));
  area.addEventListener('drop', (event: DragEvent) => {
    area.classList.remove('dropping');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    send(files);
  });
  area.addEventListener('paste', (event: ClipboardEvent) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    send(files);
  });
  return { button, input, progress };
}
