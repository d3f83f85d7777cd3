import type { ReactNode } from 'react';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { thumbHashToDataURL } from 'thumbhash';
import { useChatStores } from '../provider.js';
import type { Attachment } from '../stores/message-items.js';

/** Props of {@link Attachments}. */
export interface AttachmentsProps {
  attachments: readonly Attachment[];
  /** Local previews by media id (the user's own uploads while the message is pending). */
  previews?: ReadonlyMap<string, string>;
}

/** The longest side of an image tile in the list, px. */
const TILE_PX = 240;

/**
 * A message's photos and files. An image shows its ThumbHash placeholder at once (blurred, at the image's
 * aspect ratio so nothing jumps), then the thumbnail once it has loaded; a click (or Enter) opens the full
 * image in a lightbox. Other files show name, type and size with a download link. URLs are short-lived
 * signed ones (`client.mediaUrl`), never the access token.
 */
export const Attachments = memo(function Attachments({ attachments, previews }: AttachmentsProps): ReactNode {
  if (attachments.length === 0) return null;
  return (
    <div className="natter-attachments">
      {attachments.map((a) =>
        a.kind === 'image' || (a.kind === 'video' && a.thumbnails.length > 0) ? (
          <ImageAttachment key={a.mediaId} attachment={a} preview={previews?.get(a.mediaId)} />
        ) : (
          <FileAttachment key={a.mediaId} attachment={a} />
        ),
      )}
    </div>
  );
});

/** Decodes a ThumbHash (base64) to a data URL; undefined when there is none or it is malformed. */
export function placeholderUrl(placeholder: string | undefined): string | undefined {
  if (!placeholder) return undefined;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(placeholder), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** `532 B`, `1.2 KB`, `3.4 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A signed URL of an upload (or its thumbnail), once known. */
function useMediaUrl(mediaId: string, thumbnailSize?: number, enabled = true): string | undefined {
  const { mediaUrls } = useChatStores();
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    mediaUrls.get(mediaId, thumbnailSize).then(
      (signed) => live && setUrl(signed),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [mediaUrls, mediaId, thumbnailSize, enabled]);
  return url;
}

function ImageAttachment({
  attachment: a,
  preview,
}: {
  attachment: Attachment;
  preview: string | undefined;
}) {
  const thumb = a.thumbnails[0];
  const width = thumb?.width ?? a.width ?? TILE_PX;
  const height = thumb?.height ?? a.height ?? (TILE_PX * 3) / 4;
  const scale = Math.min(1, TILE_PX / Math.max(width, height));
  const blur = useMemo(() => placeholderUrl(a.placeholder), [a.placeholder]);
  const thumbUrl = useMediaUrl(a.mediaId, thumb?.size);
  const [loaded, setLoaded] = useState(false);
  const [open, setOpen] = useState(false);
  const state = loaded ? 'thumbnail' : 'placeholder';
  const label = a.kind === 'video' ? `Play video ${a.filename}` : `Open image ${a.filename}`;
  return (
    <>
      <button
        type="button"
        className="natter-attachment-image"
        aria-label={label}
        data-state={state}
        onClick={() => setOpen(true)}
        style={{
          width: Math.round(width * scale),
          height: Math.round(height * scale),
          backgroundImage: blur ? `url("${blur}")` : undefined,
        }}
      >
        {/* The thumbnail (or the local preview of an own upload) fades in over the placeholder once loaded. */}
        {thumbUrl || preview ? (
          <img
            src={thumbUrl ?? preview}
            alt=""
            width={Math.round(width * scale)}
            height={Math.round(height * scale)}
            data-loaded={loaded}
            onLoad={() => setLoaded(true)}
          />
        ) : null}
      </button>
      {open ? <Lightbox attachment={a} onClose={() => setOpen(false)} /> : null}
    </>
  );
}

/** The full image over the page: Escape, the close button or a click on the backdrop closes it. */
function Lightbox({ attachment: a, onClose }: { attachment: Attachment; onClose(): void }) {
  const full = useMediaUrl(a.mediaId);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    // Focus goes back to the tile that opened it.
    const opener = document.activeElement as HTMLElement | null;
    if (typeof el.showModal === 'function' && !el.open) el.showModal();
    else el.setAttribute('open', '');
    return () => opener?.focus?.();
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes the dialog natively (onCancel)
    <dialog
      ref={dialog}
      className="natter-lightbox"
      aria-label={a.filename}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      {a.kind === 'video' && full ? (
        // biome-ignore lint/a11y/useMediaCaption: user uploads carry no caption track
        <video src={full} controls autoPlay className="natter-lightbox-media" />
      ) : full ? (
        <img src={full} alt={a.filename} className="natter-lightbox-media" />
      ) : (
        <p className="natter-loading">Loading…</p>
      )}
      <p className="natter-lightbox-caption">
        {a.filename}
        {full ? (
          <a href={full} download={a.filename} target="_blank" rel="noopener noreferrer">
            Download
          </a>
        ) : null}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </p>
    </dialog>
  );
}

function FileAttachment({ attachment: a }: { attachment: Attachment }) {
  const url = useMediaUrl(a.mediaId);
  const extension = (a.filename.includes('.') ? (a.filename.split('.').pop() ?? '') : 'file').slice(0, 4);
  return (
    <a
      className="natter-attachment-file"
      href={url ?? undefined}
      download={a.filename}
      target="_blank"
      rel="noopener noreferrer"
      aria-label={`Download ${a.filename}, ${formatBytes(a.size)}`}
      aria-disabled={url ? undefined : true}
    >
      <span className="natter-file-icon" aria-hidden="true">
        {extension.toUpperCase()}
      </span>
      <span className="natter-file-name">{a.filename}</span>
      <span className="natter-file-size">{formatBytes(a.size)}</span>
    </a>
  );
}
