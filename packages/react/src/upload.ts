import type { ChatClient } from '@natter/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useChatClient } from './provider.js';
import type { Attachment } from './stores/message-items.js';

/** One file being attached: uploading (with progress), uploaded, or failed. */
export type UploadItem = {
  /** Local id of this upload (for `cancel`). */
  readonly id: string;
  readonly name: string;
  /** Bytes of the file. */
  readonly size: number;
  /** An object URL of the local file when it is an image, for a preview before the upload finishes. */
  readonly previewUrl: string | undefined;
} & (
  | { readonly state: 'uploading'; readonly sent: number; readonly total: number }
  | { readonly state: 'done'; readonly attachment: Attachment }
  | { readonly state: 'failed'; readonly error: Error }
);

/** Files attached to the next message, with their uploads. */
export interface UploadsView {
  readonly items: readonly UploadItem[];
  /** The uploaded ones, for `send(text, { attachments })`. */
  readonly attachments: readonly Attachment[];
  /** True while any upload runs (send when it is false). */
  readonly uploading: boolean;
  /** Starts uploading files (a file input's, a drop's, a paste's). */
  add(files: ReadonlyArray<File | Blob>): void;
  /** Stops an upload (or drops an uploaded or failed file) and removes it. */
  cancel(id: string): void;
  /** Removes every file (after sending them). */
  clear(): void;
}

type MediaBody = Awaited<ReturnType<ChatClient['upload']>>;

/** The attachment a message will carry for an upload. */
export function attachmentOf(media: MediaBody): Attachment {
  const { id, sha256: _sha, sourceSha256: _source, expiresAt: _expires, ...fields } = media;
  return { mediaId: id, ...fields };
}

let nextId = 0;

/**
 * Uploads for the next message: each file starts uploading when added (progress per file, cancel with
 * `cancel(id)`, which aborts the request), images get a local preview at once. Unmounting aborts what
 * still runs. Send the `attachments` with `useSend`'s `send(text, { attachments })`, then `clear()`.
 */
export function useUpload(): UploadsView {
  const client = useChatClient();
  const [items, setItems] = useState<readonly UploadItem[]>([]);
  const controllers = useRef(new Map<string, AbortController>());
  const previews = useRef(new Set<string>());

  useEffect(
    () => () => {
      for (const controller of controllers.current.values()) controller.abort();
      for (const url of previews.current) URL.revokeObjectURL(url);
    },
    [],
  );

  const change = useCallback((id: string, next: (item: UploadItem) => UploadItem | undefined) => {
    setItems((list) => {
      const index = list.findIndex((item) => item.id === id);
      const current = list[index];
      if (!current) return list;
      const replaced = next(current);
      return replaced
        ? list.map((item, i) => (i === index ? replaced : item))
        : list.filter((_, i) => i !== index);
    });
  }, []);

  const add = useCallback(
    (files: ReadonlyArray<File | Blob>) => {
      for (const file of files) {
        const id = `upload-${++nextId}`;
        const name = typeof File !== 'undefined' && file instanceof File ? file.name : 'file';
        const previewUrl =
          file.type.startsWith('image/') && typeof URL.createObjectURL === 'function'
            ? URL.createObjectURL(file)
            : undefined;
        if (previewUrl) previews.current.add(previewUrl);
        const controller = new AbortController();
        controllers.current.set(id, controller);
        const base = { id, name, size: file.size, previewUrl };
        setItems((list) => [...list, { ...base, state: 'uploading', sent: 0, total: file.size }]);
        client
          .upload(file, {
            filename: name,
            signal: controller.signal,
            onProgress: (sent, total) =>
              change(id, (item) =>
                item.state === 'uploading' ? { ...base, state: 'uploading', sent, total } : item,
              ),
          })
          .then(
            (media) => change(id, () => ({ ...base, state: 'done', attachment: attachmentOf(media) })),
            (err: unknown) => {
              // A cancelled upload was removed already; anything else stays with its error.
              if (controller.signal.aborted) return;
              const error = err instanceof Error ? err : new Error(String(err));
              change(id, () => ({ ...base, state: 'failed', error }));
            },
          )
          .finally(() => controllers.current.delete(id));
      }
    },
    [client, change],
  );

  const cancel = useCallback(
    (id: string) => {
      controllers.current.get(id)?.abort();
      change(id, (item) => {
        if (item.previewUrl) {
          URL.revokeObjectURL(item.previewUrl);
          previews.current.delete(item.previewUrl);
        }
        return undefined;
      });
    },
    [change],
  );

  const clear = useCallback(() => {
    for (const controller of controllers.current.values()) controller.abort();
    controllers.current.clear();
    // Previews stay valid until unmount: the pending row may still show them.
    setItems([]);
  }, []);

  return useMemo(() => {
    const attachments = items.flatMap((item) => (item.state === 'done' ? [item.attachment] : []));
    const uploading = items.some((item) => item.state === 'uploading');
    return { items, attachments, uploading, add, cancel, clear };
  }, [items, add, cancel, clear]);
}
