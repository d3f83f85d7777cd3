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
.natter :where(.natter-channel, .natter-jump, .natter-send, .natter-search-result, .natter-message-actions button, .natter-loading button) {
  font: inherit; color: inherit; cursor: pointer; }
.natter :focus-visible { outline: 2px solid var(--natter-accent); outline-offset: 2px; }
.natter-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.natter-channel-list ul { list-style: none; margin: 0; padding: 0; }
.natter-channel { display: flex; gap: var(--natter-gap); align-items: center; width: 100%; padding: 10px 12px;
  border: 0; border-radius: var(--natter-radius); background: transparent; text-align: left; }
.natter-channel:hover, .natter-channel[aria-current="true"] { background: var(--natter-surface); }
.natter-channel-text { flex: 1; min-width: 0; }
.natter-channel-name { font-weight: 600; display: block; }
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
`;
