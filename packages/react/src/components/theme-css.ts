/**
 * The kit's stylesheet, as a string the {@link ChatTheme} root renders in a `<style>` element (so apps need
 * no CSS loader). Every colour, radius and spacing is a `--natter-*` variable: override any on `.natter` or
 * an ancestor. `data-natter-theme` picks light, dark, or `auto` (the system's preference). Components render
 * the same markup unstyled; only this sheet gives it a look.
 */
export const NATTER_CSS = `
.natter {
  --natter-bg: #ffffff; --natter-fg: #1b1f24; --natter-muted: #5d6670; --natter-border: #d9dee4;
  --natter-surface: #f4f6f8; --natter-accent: #0b63ce; --natter-accent-fg: #ffffff; --natter-own-bg: #e3efff;
  --natter-danger: #b3261e; --natter-online: #1a7f37; --natter-away: #9a6700; --natter-offline: #8c959f;
  --natter-mark: #fff3b0; --natter-radius: 10px; --natter-gap: 8px;
  --natter-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--natter-fg); background: var(--natter-bg); font-family: var(--natter-font); font-size: 15px;
}
.natter[data-natter-theme="dark"] {
  --natter-bg: #0f1419; --natter-fg: #e6edf3; --natter-muted: #9aa5b1; --natter-border: #30363d;
  --natter-surface: #161b22; --natter-accent: #4493f8; --natter-accent-fg: #0f1419; --natter-own-bg: #0c2138;
  --natter-danger: #ff7b72; --natter-online: #3fb950; --natter-away: #d29922; --natter-offline: #6e7681;
  --natter-mark: #5a4a00;
}
@media (prefers-color-scheme: dark) {
  .natter[data-natter-theme="auto"] {
    --natter-bg: #0f1419; --natter-fg: #e6edf3; --natter-muted: #9aa5b1; --natter-border: #30363d;
    --natter-surface: #161b22; --natter-accent: #4493f8; --natter-accent-fg: #0f1419; --natter-own-bg: #0c2138;
    --natter-danger: #ff7b72; --natter-online: #3fb950; --natter-away: #d29922; --natter-offline: #6e7681;
    --natter-mark: #5a4a00;
  }
}
.natter *, .natter *::before, .natter *::after { box-sizing: border-box; }
/* Only the kit's own buttons: an app's buttons inside the root keep their look. */
.natter :where(.natter-channel, .natter-jump, .natter-send, .natter-search-result, .natter-message-actions button, .natter-loading button,
  .natter-toolbar button, .natter-emoji-picker button, .natter-reaction, .natter-quote, .natter-thread-summary, .natter-confirm button,
  .natter-editor button, .natter-attach, .natter-uploads button, .natter-reply-banner button, .natter-thread-header button,
  .natter-attachment-image, .natter-lightbox button) {
  font: inherit; color: inherit; cursor: pointer; }
.natter :focus-visible { outline: 2px solid var(--natter-accent); outline-offset: 2px; }
.natter-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.natter-channel-list ul { list-style: none; margin: 0; padding: 0; }
.natter-channel { display: flex; gap: var(--natter-gap); align-items: center; width: 100%; padding: 10px 12px;
  border: 0; border-radius: var(--natter-radius); background: transparent; text-align: left; }
.natter-channel:hover, .natter-channel[aria-current="true"] { background: var(--natter-surface); }
.natter-channel-text { flex: 1; min-width: 0; }
.natter-channel-name { font-weight: 600; display: block; }
.natter-encrypted { display: inline-flex; vertical-align: -1px; margin-inline-start: 0.3em; color: var(--natter-muted); }
.natter-devices { list-style: none; margin: 0; padding: 0; }
.natter-device { padding: 0.4em 0; }
.natter-device-name { display: block; font-weight: 600; }
.natter-fingerprint { display: block; font-family: ui-monospace, monospace; letter-spacing: 0.05em; }
.natter-channel-preview { color: var(--natter-muted); display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.natter-badge { min-width: 22px; padding: 2px 7px; border-radius: 11px; background: var(--natter-accent);
  color: var(--natter-accent-fg); font-size: 12px; font-weight: 700; text-align: center; }

.natter-avatar { position: relative; flex: none; display: inline-grid; place-items: center; width: 36px; height: 36px;
  border-radius: 50%; color: #fff; font-weight: 700; font-size: 14px; }
.natter-presence { position: absolute; right: -1px; bottom: -1px; width: 11px; height: 11px; border-radius: 50%;
  border: 2px solid var(--natter-bg); background: var(--natter-offline); }
.natter-presence[data-status="online"] { background: var(--natter-online); }
.natter-presence[data-status="away"] { background: var(--natter-away); }

.natter-message-list { position: relative; display: flex; flex-direction: column; min-height: 0; flex: 1; }
.natter-scroller { flex: 1; overflow-y: auto; overscroll-behavior: contain; padding: 8px 12px; }
.natter-day { margin: 0; text-align: center; color: var(--natter-muted); font-size: 12px; padding: 10px 0 6px; }
.natter-divider { margin: 0; display: flex; align-items: center; gap: var(--natter-gap); color: var(--natter-danger); font-size: 12px; padding: 6px 0; }
.natter-divider::before, .natter-divider::after { content: ""; flex: 1; border-top: 1px solid currentColor; }
.natter-message { display: flex; gap: var(--natter-gap); padding: 2px 0; }
.natter-message[data-first="true"] { padding-top: 10px; }
.natter-message-gutter { width: 36px; flex: none; }
.natter-message-body { min-width: 0; flex: 1; }
.natter-message-meta { display: flex; gap: var(--natter-gap); align-items: baseline; }
.natter-message-sender { font-weight: 600; }
.natter-message-time, .natter-message-status { color: var(--natter-muted); font-size: 12px; }
.natter-message-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.natter-message[data-own="true"] .natter-message-text { background: var(--natter-own-bg); border-radius: var(--natter-radius);
  padding: 4px 8px; display: inline-block; }
.natter-message[data-status="failed"] .natter-message-status { color: var(--natter-danger); }
.natter-message-actions button { border: 0; background: none; color: var(--natter-accent); padding: 0 4px; text-decoration: underline; }
.natter [data-focused] > .natter-message { box-shadow: inset 3px 0 var(--natter-accent); background: var(--natter-surface); }
.natter-message-system { color: var(--natter-muted); font-style: italic; font-size: 13px; text-align: center; padding: 4px 0; }
.natter-mention { color: var(--natter-accent); font-weight: 600; }
.natter a { color: var(--natter-accent); }
.natter mark { background: var(--natter-mark); color: inherit; }
.natter-jump { position: absolute; right: 16px; bottom: 12px; border: 1px solid var(--natter-border); border-radius: 16px;
  background: var(--natter-bg); padding: 6px 12px; box-shadow: 0 2px 8px rgb(0 0 0 / 0.15); }
.natter-loading { text-align: center; color: var(--natter-muted); font-size: 12px; padding: 6px; }

.natter-composer { position: relative; display: flex; gap: var(--natter-gap); padding: 8px 12px; border-top: 1px solid var(--natter-border); }
.natter-composer textarea { flex: 1; resize: none; min-height: 40px; max-height: 160px; padding: 9px 10px; font: inherit;
  color: inherit; background: var(--natter-surface); border: 1px solid var(--natter-border); border-radius: var(--natter-radius); }
.natter-send { border: 0; border-radius: var(--natter-radius); background: var(--natter-accent); color: var(--natter-accent-fg); padding: 0 16px; font-weight: 600; }
.natter-send:disabled { opacity: 0.5; cursor: default; }
.natter-suggestions { position: absolute; left: 12px; bottom: 100%; margin: 0; padding: 4px; list-style: none; min-width: 220px;
  background: var(--natter-bg); border: 1px solid var(--natter-border); border-radius: var(--natter-radius); box-shadow: 0 4px 16px rgb(0 0 0 / 0.18); }
.natter-suggestion { padding: 6px 8px; border-radius: 6px; cursor: pointer; }
.natter-suggestion[aria-selected="true"] { background: var(--natter-surface); }
.natter-suggestion small { color: var(--natter-muted); margin-left: 6px; }

.natter-typing { min-height: 20px; padding: 0 12px; color: var(--natter-muted); font-size: 13px; }
.natter-receipts { color: var(--natter-muted); font-size: 12px; text-align: right; padding: 2px 0; }

.natter-search { display: flex; flex-direction: column; gap: var(--natter-gap); padding: 8px 12px; }
.natter-search input { padding: 8px 10px; font: inherit; color: inherit; background: var(--natter-surface);
  border: 1px solid var(--natter-border); border-radius: var(--natter-radius); }
.natter-search ul { list-style: none; margin: 0; padding: 0; }
.natter-search-result { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 8px; border-radius: var(--natter-radius); }
.natter-search-result:hover { background: var(--natter-surface); }
.natter-search-status { color: var(--natter-muted); font-size: 13px; }

.natter-message { position: relative; }
.natter-row-actions { position: absolute; right: 4px; top: -6px; z-index: 2; }
.natter-toolbar-wrap { display: flex; flex-direction: column; align-items: flex-end; gap: 4px; }
.natter-toolbar { display: flex; gap: 2px; padding: 2px; background: var(--natter-bg); border: 1px solid var(--natter-border);
  border-radius: var(--natter-radius); box-shadow: 0 2px 6px rgb(0 0 0 / 0.12); }
.natter-actions-trigger { position: absolute; right: 4px; top: 0; opacity: 0; font-size: 12px; padding: 2px 8px; border: 1px solid var(--natter-border);
  border-radius: 6px; background: var(--natter-bg); color: inherit; }
.natter-actions-trigger:focus-visible { opacity: 1; }
.natter-toolbar button, .natter-emoji-picker button { border: 0; background: none; border-radius: 6px; min-width: 28px; height: 28px; padding: 0 4px; }
.natter-toolbar button:hover, .natter-emoji-picker button:hover, .natter-emoji-picker button[aria-pressed="true"] { background: var(--natter-surface); }
.natter-emoji-picker { display: flex; gap: 2px; padding: 4px; background: var(--natter-bg); border: 1px solid var(--natter-border);
  border-radius: var(--natter-radius); box-shadow: 0 4px 16px rgb(0 0 0 / 0.18); font-size: 18px; }
.natter-confirm { padding: 8px 10px; background: var(--natter-bg); border: 1px solid var(--natter-border); border-radius: var(--natter-radius);
  box-shadow: 0 4px 16px rgb(0 0 0 / 0.18); max-width: 280px; font-size: 13px; }
.natter-confirm p { margin: 0 0 6px; }
.natter-confirm button, .natter-editor button { border: 1px solid var(--natter-border); background: var(--natter-surface); border-radius: 6px; padding: 3px 10px; margin-right: 6px; }
.natter-confirm .natter-danger { background: var(--natter-danger); color: var(--natter-bg); border-color: var(--natter-danger); }
.natter-message-error { color: var(--natter-danger); font-size: 12px; margin: 2px 0; }
.natter-hint, .natter-edited { color: var(--natter-muted); font-size: 12px; }
.natter-tombstone { color: var(--natter-muted); font-style: italic; }
.natter-message[data-deleted] .natter-message-text { background: none; padding: 0; }
.natter-editor textarea { width: 100%; min-height: 40px; padding: 6px 8px; font: inherit; color: inherit; background: var(--natter-surface);
  border: 1px solid var(--natter-accent); border-radius: var(--natter-radius); resize: vertical; }
.natter-editor-buttons { display: flex; align-items: center; gap: 4px; margin-top: 4px; }
.natter-quote { display: flex; flex-direction: column; align-items: flex-start; max-width: 100%; margin: 2px 0 4px; padding: 2px 8px;
  border: 0; border-left: 3px solid var(--natter-accent); background: var(--natter-surface); border-radius: 4px; text-align: left; font-size: 13px; }
.natter-quote-sender { font-weight: 600; }
.natter-quote-text { color: var(--natter-muted); max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.natter-quote[data-deleted] .natter-quote-text { font-style: italic; }
.natter-reactions { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.natter-reaction-wrap { position: relative; }
.natter-reaction { display: inline-flex; gap: 4px; align-items: center; padding: 1px 8px; border-radius: 12px;
  border: 1px solid var(--natter-border); background: var(--natter-surface); font-size: 13px; }
.natter-reaction[aria-pressed="true"] { border-color: var(--natter-accent); background: var(--natter-own-bg); }
.natter-tooltip { position: absolute; bottom: calc(100% + 4px); left: 0; z-index: 3; width: max-content; max-width: 240px; padding: 4px 8px;
  border-radius: 6px; background: var(--natter-fg); color: var(--natter-bg); font-size: 12px; }
.natter-thread-summary { margin-top: 4px; border: 0; background: none; padding: 0; color: var(--natter-accent); font-weight: 600; font-size: 13px; }
.natter-attachments { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 4px; }
.natter-attachment-image { position: relative; padding: 0; border: 0; border-radius: var(--natter-radius); overflow: hidden;
  background: var(--natter-surface) center / cover no-repeat; }
.natter-attachment-image img { display: block; width: 100%; height: 100%; object-fit: cover; opacity: 0; transition: opacity 0.2s; }
.natter-attachment-image img[data-loaded="true"] { opacity: 1; }
.natter-attachment-file { display: inline-flex; align-items: center; gap: 8px; padding: 6px 10px; border: 1px solid var(--natter-border);
  border-radius: var(--natter-radius); background: var(--natter-surface); color: inherit; text-decoration: none; max-width: 320px; }
.natter-file-icon { flex: none; padding: 4px 6px; border-radius: 4px; background: var(--natter-accent); color: var(--natter-accent-fg); font-size: 11px; font-weight: 700; }
.natter-file-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.natter-file-size { color: var(--natter-muted); font-size: 12px; flex: none; }
.natter-lightbox { max-width: 92vw; max-height: 92vh; padding: 8px; border: 0; border-radius: var(--natter-radius); background: var(--natter-bg); color: var(--natter-fg); }
.natter-lightbox::backdrop { background: rgb(0 0 0 / 0.75); }
.natter-lightbox-media { display: block; max-width: 88vw; max-height: 80vh; margin: 0 auto; }
.natter-lightbox-caption { display: flex; gap: 12px; align-items: center; justify-content: space-between; margin: 6px 0 0; font-size: 13px; }
.natter-lightbox button { border: 1px solid var(--natter-border); background: var(--natter-surface); border-radius: 6px; padding: 3px 10px; }
.natter-composer { flex-wrap: wrap; align-items: flex-end; }
.natter-composer[data-dropping] { outline: 2px dashed var(--natter-accent); outline-offset: -4px; }
.natter-reply-banner, .natter-uploads { flex-basis: 100%; }
.natter-reply-banner { display: flex; align-items: center; gap: 8px; }
.natter-reply-banner .natter-quote { flex: 1; min-width: 0; margin: 0; }
.natter-reply-banner button, .natter-uploads button { border: 0; background: none; font-size: 18px; line-height: 1; padding: 2px 6px; }
.natter-uploads { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
.natter-upload { display: flex; align-items: center; gap: 6px; padding: 4px 6px; border: 1px solid var(--natter-border); border-radius: var(--natter-radius);
  background: var(--natter-surface); font-size: 13px; max-width: 100%; }
.natter-upload-preview { width: 36px; height: 36px; object-fit: cover; border-radius: 4px; }
.natter-upload-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 180px; }
.natter-upload-name small { color: var(--natter-muted); }
.natter-progress { width: 80px; accent-color: var(--natter-accent); }
.natter-attach { border: 1px solid var(--natter-border); border-radius: var(--natter-radius); background: var(--natter-surface); min-width: 40px; height: 40px; font-size: 20px; }
.natter-thread { display: flex; flex-direction: column; min-height: 0; height: 100%; border-left: 1px solid var(--natter-border); background: var(--natter-bg); }
.natter-thread-header { display: flex; align-items: center; justify-content: space-between; padding: 8px 12px; border-bottom: 1px solid var(--natter-border); }
.natter-thread-header h2 { margin: 0; font-size: 16px; }
.natter-thread-header button { border: 0; background: none; font-size: 20px; line-height: 1; padding: 2px 6px; }
.natter-slow-mode { flex-basis: 100%; margin: 0; font-size: 12px; color: var(--natter-muted); }
.natter-slow-mode[data-held] { color: var(--natter-fg); font-weight: 600; }
.natter-dialog { width: min(420px, 92vw); padding: 16px; border: 1px solid var(--natter-border); border-radius: var(--natter-radius);
  background: var(--natter-bg); color: var(--natter-fg); }
.natter-dialog::backdrop { background: rgb(0 0 0 / 0.5); }
.natter-dialog-title { margin: 0 0 10px; font-size: 17px; }
.natter-dialog-body { display: flex; flex-direction: column; gap: 8px; }
.natter-dialog-body p { margin: 0; }
.natter-report-reasons { border: 0; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
.natter-report-reasons legend { padding: 0; margin-bottom: 6px; font-weight: 600; }
.natter-report-reasons label { display: flex; gap: 8px; align-items: center; }
.natter-dialog textarea { font: inherit; padding: 6px 8px; border: 1px solid var(--natter-border); border-radius: 6px;
  background: var(--natter-bg); color: var(--natter-fg); resize: vertical; }
.natter-dialog-buttons { display: flex; gap: 8px; justify-content: flex-end; }
.natter-dialog-buttons button { border: 1px solid var(--natter-border); background: var(--natter-surface); color: var(--natter-fg);
  border-radius: 6px; padding: 5px 12px; }
.natter-dialog-buttons .natter-danger { background: var(--natter-danger); color: var(--natter-bg); border-color: var(--natter-danger); }
.natter-dialog-buttons button:disabled { opacity: 0.6; }
`;
