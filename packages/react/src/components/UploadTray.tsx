import type { ReactNode } from 'react';
import { useId, useRef } from 'react';
import type { UploadsView } from '../upload.js';
import { formatBytes } from './Attachments.js';

/** The composer's attach button and its (hidden) file input. */
export function AttachButton({ onFiles }: { onFiles(files: File[]): void }): ReactNode {
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  return (
    <>
      <input
        ref={input}
        id={id}
        type="file"
        multiple
        className="natter-sr-only"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const files = [...(event.target.files ?? [])];
          event.target.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
      <button
        type="button"
        className="natter-attach"
        aria-label="Attach a photo or file"
        onClick={() => input.current?.click()}
      >
        +
      </button>
    </>
  );
}

/**
 * The files attached to the next message: a preview (images) or the name, the upload's progress bar, and a
 * button that cancels the upload or removes the file; a failed upload says why.
 */
export function UploadTray({ uploads }: { uploads: UploadsView }): ReactNode {
  return (
    <ul className="natter-uploads" aria-label="Attachments">
      {uploads.items.map((item) => (
        <li key={item.id} className="natter-upload" data-state={item.state}>
          {item.previewUrl ? <img src={item.previewUrl} alt="" className="natter-upload-preview" /> : null}
          <span className="natter-upload-name">
            {item.name} <small>{formatBytes(item.size)}</small>
          </span>
          {item.state === 'uploading' ? (
            <progress
              max={item.total || 1}
              value={item.sent}
              aria-label={`Uploading ${item.name}`}
              className="natter-progress"
            />
          ) : null}
          {item.state === 'failed' ? (
            <span role="alert" className="natter-message-error">
              Upload failed: {item.error.message}
            </span>
          ) : null}
          <button
            type="button"
            aria-label={item.state === 'uploading' ? `Cancel upload of ${item.name}` : `Remove ${item.name}`}
            onClick={() => uploads.cancel(item.id)}
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
