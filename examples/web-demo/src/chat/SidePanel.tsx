/**
 * The side panel: conversation details, message search (the kit's search-as-you-type panel, with hits
 * highlighted) and "mentions of me". Results open the message in its conversation. Escape closes it.
 */
import type { Message } from '@natter/client';
import { SearchPanel, useChatClient, useUser } from '@natter/react';
import type { ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { useDemoApp } from './app-context.js';
import { Details } from './Details.js';
import { describeError, useChannel } from './hooks.js';

/** The panel, or nothing when closed. */
export function SidePanel(): ReactNode {
  const app = useDemoApp();
  const channel = useChannel(app.activeId);
  const kind = app.panel.kind === 'details' && !channel ? 'none' : app.panel.kind;
  if (kind === 'none') return null;
  const title =
    kind === 'details'
      ? channel?.channel.kind === 'group'
        ? 'Group info'
        : 'Contact'
      : kind === 'search'
        ? 'Search messages'
        : 'Mentions of me';
  return (
    <aside
      className="panel"
      id="panel"
      aria-labelledby="panel-title"
      onKeyDown={(event) => {
        if (event.key === 'Escape') app.showPanel({ kind: 'none' });
      }}
    >
      <header className="panel-head">
        <h2 id="panel-title">{title}</h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close panel"
          onClick={() => app.showPanel({ kind: 'none' })}
        >
          ✕
        </button>
      </header>
      <div className="panel-body">
        {kind === 'details' && channel ? <Details channel={channel.channel} /> : null}
        {kind === 'search' ? <SearchPanel onSelect={(m) => app.jumpTo(m.channelId, m.seq)} /> : null}
        {kind === 'mentions' ? <Mentions /> : null}
      </div>
    </aside>
  );
}

function Mentions(): ReactNode {
  const client = useChatClient();
  const [state, setState] = useState<
    { kind: 'loading' } | { kind: 'done'; results: Message[] } | { kind: 'error'; text: string }
  >({ kind: 'loading' });
  useEffect(() => {
    let current = true;
    client.mentions({ limit: 50 }).then(
      (results) => current && setState({ kind: 'done', results }),
      (err: unknown) => current && setState({ kind: 'error', text: describeError(err) }),
    );
    return () => {
      current = false;
    };
  }, [client]);
  if (state.kind === 'loading') return <p className="hint">Loading…</p>;
  if (state.kind === 'error') return <p className="form-error">{state.text}</p>;
  if (state.results.length === 0)
    return <p className="hint">Nobody has mentioned you yet. Mentions look like @alice.</p>;
  return (
    <ul className="results">
      {state.results.map((m) => (
        <li key={m.id}>
          <MentionResult message={m} />
        </li>
      ))}
    </ul>
  );
}

function MentionResult({ message }: { message: Message }): ReactNode {
  const app = useDemoApp();
  const sender = useUser(message.senderId);
  return (
    <button type="button" className="result" onClick={() => app.jumpTo(message.channelId, message.seq)}>
      <span className="result-top">
        <span className="result-where">{sender?.displayName ?? ''}</span>
        <time dateTime={new Date(message.createdAt).toISOString()}>
          {new Date(message.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
        </time>
      </span>
      <span className="result-text">{message.text}</span>
    </button>
  );
}
