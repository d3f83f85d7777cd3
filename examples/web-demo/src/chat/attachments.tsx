/**
 * Sending photos and files: the attach button, drag and drop onto the conversation, pasting an image, and
 * the upload progress bar. Files are uploaded one after another, then sent in one message through the
 * outbox, so the message row appears (pending, then sent) like any other.
 */
import { type Attachment, attachmentOf, useChatStores } from '@natter/react';
import type { ReactNode, RefObject } from 'react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useDemoApp } from './app-context.js';

/** An upload in progress: the share of bytes sent, 0 to 1. */
type Upload = { state: 'idle' } | { state: 'uploading'; progress: number; names: string };

/** The conversation's file handling. */
export interface FileDrop {
  /** Files are dragged over the conversation. */
  dropping: boolean;
  upload: Upload;
  send(files: readonly File[]): void;
}

/** Uploads files into a channel, with drag-and-drop and paste on `area`. */
export function useFileDrop(area: RefObject<HTMLElement | null>, channelId: string): FileDrop {
  const stores = useChatStores();
  const app = useDemoApp();
  const [dropping, setDropping] = useState(false);
  const [upload, setUpload] = useState<Upload>({ state: 'idle' });

  const send = useCallback(
    (files: readonly File[]) => {
      if (files.length === 0) return;
      const total = files.reduce((sum, f) => sum + f.size, 0);
      const names = files.map((f) => f.name).join(', ');
      setUpload({ state: 'uploading', progress: 0, names });
      void (async () => {
        try {
          const attachments: Attachment[] = [];
          let done = 0;
          for (const file of files) {
            const media = await stores.client.upload(file, {
              onProgress: (sent) =>
                setUpload({ state: 'uploading', progress: total === 0 ? 1 : (done + sent) / total, names }),
            });
            done += file.size;
            attachments.push(attachmentOf(media));
          }
          stores.send(channelId, '', { attachments });
        } catch (err) {
          app.notify(`Upload failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          setUpload({ state: 'idle' });
        }
      })();
    },
    [stores, channelId, app],
  );

  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDropping(true);
    };
    const leave = (event: DragEvent) => {
      // Leaving for a child element is not leaving the area.
      if (!(event.relatedTarget instanceof Node && el.contains(event.relatedTarget))) setDropping(false);
    };
    const drop = (event: DragEvent) => {
      setDropping(false);
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      send(files);
    };
    const paste = (event: ClipboardEvent) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      send(files);
    };
    el.addEventListener('dragover', over);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    el.addEventListener('paste', paste);
    return () => {
      el.removeEventListener('dragover', over);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
      el.removeEventListener('paste', paste);
    };
  }, [area, send]);

  return { dropping, upload, send };
}

/** The attach button (with its file input) and the progress of the current upload. */
export function AttachControls({ drop }: { drop: FileDrop }): ReactNode {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        className="sr-only"
        id="attach-input"
        aria-label="Attach files"
        tabIndex={-1}
        onChange={(event) => {
          drop.send([...(event.target.files ?? [])]);
          event.target.value = '';
        }}
      />
      <button
        type="button"
        className="attach"
        aria-label="Attach a photo or file"
        onClick={() => input.current?.click()}
      >
        +
      </button>
      {drop.upload.state === 'uploading' ? (
        <progress
          className="upload-progress"
          max={1}
          value={drop.upload.progress}
          aria-label={`Uploading ${drop.upload.names}`}
        />
      ) : null}
    </>
  );
}
