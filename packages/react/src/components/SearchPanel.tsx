import type { Message } from '@natter/client';
import type { ReactNode } from 'react';
import { useId, useState } from 'react';
import { useUser } from '../hooks.js';
import { type SearchOptions, useSearch } from '../search.js';
import { dayLabel, markMatches, type TextPart, timeOf } from './format.js';

/** Props of {@link SearchPanel}. */
export interface SearchPanelProps {
  /** Called when the user picks a result (open its channel, say). */
  onSelect?: (message: Message) => void;
  /** Debounce and minimum length of the search. */
  options?: SearchOptions;
  /** Accessible name of the search field. @default 'Search messages' */
  label?: string;
}

/**
 * Search as you type across the user's channels: results update while typing (debounced), with the query's
 * words highlighted and the state announced to screen readers.
 */
export function SearchPanel({ onSelect, options, label = 'Search messages' }: SearchPanelProps): ReactNode {
  const [query, setQuery] = useState('');
  const state = useSearch(query, options);
  const statusId = useId();
  const results = state.status === 'done' || state.status === 'searching' ? state.results : [];
  const status =
    state.status === 'idle'
      ? ''
      : state.status === 'searching'
        ? 'Searching…'
        : state.status === 'error'
          ? 'Search failed. Try again.'
          : results.length === 0
            ? 'No messages found.'
            : `${results.length} message${results.length === 1 ? '' : 's'} found.`;
  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is too new for the React versions supported
    <section className="natter-search" role="search" aria-label={label}>
      <input
        type="search"
        value={query}
        aria-label={label}
        aria-describedby={statusId}
        placeholder="Search messages"
        onChange={(event) => setQuery(event.target.value)}
      />
      <p id={statusId} className="natter-search-status" aria-live="polite">
        {status}
      </p>
      <ul>
        {results.map((message) => (
          <li key={message.id}>
            <SearchResult
              message={message}
              query={state.status === 'idle' ? '' : state.query}
              onSelect={onSelect}
            />
          </li>
        ))}
      </ul>
    </section>
  );
}

function SearchResult(props: {
  message: Message;
  query: string;
  onSelect: ((m: Message) => void) | undefined;
}) {
  const { message, query, onSelect } = props;
  const sender = useUser(message.senderId);
  return (
    <button type="button" className="natter-search-result" onClick={() => onSelect?.(message)}>
      <strong>{sender?.displayName ?? ''}</strong>{' '}
      <small>
        {dayLabel(message.createdAt)} {timeOf(message.createdAt)}
      </small>
      <br />
      {markMatches(message.text, query).map(renderHit)}
    </button>
  );
}

function renderHit(part: TextPart, i: number): ReactNode {
  return part.kind === 'mark' ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>;
}
