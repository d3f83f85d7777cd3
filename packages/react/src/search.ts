import type { Message } from '@natter/client';
import { useEffect, useState } from 'react';
import { useChatClient } from './provider.js';

/** Where a search stands. */
export type SearchState =
  | { readonly status: 'idle' }
  | { readonly status: 'searching'; readonly query: string; readonly results: readonly Message[] }
  | { readonly status: 'done'; readonly query: string; readonly results: readonly Message[] }
  | { readonly status: 'error'; readonly query: string; readonly error: Error };

/** Options of {@link useSearch}. */
export interface SearchOptions {
  /** Wait this long after the last keystroke before asking the server, ms. @default 250 */
  debounceMs?: number;
  /** Shorter queries are not searched. @default 2 */
  minLength?: number;
}

const IDLE: SearchState = Object.freeze({ status: 'idle' });

/**
 * Full-text search in the user's channels as the user types: debounced, and an answer for an older query
 * never replaces a newer one. While a new query runs, the previous results stay (`searching`).
 */
export function useSearch(query: string, options: SearchOptions = {}): SearchState {
  const client = useChatClient();
  const [state, setState] = useState<SearchState>(IDLE);
  const debounceMs = options.debounceMs ?? 250;
  const minLength = options.minLength ?? 2;
  const text = query.trim();
  useEffect(() => {
    if (text.length < minLength) {
      setState(IDLE);
      return;
    }
    let current = true;
    setState((previous) =>
      Object.freeze({
        status: 'searching',
        query: text,
        results: previous.status === 'done' || previous.status === 'searching' ? previous.results : [],
      }),
    );
    const timer = setTimeout(() => {
      client.search(text).then(
        (results) => {
          if (current)
            setState(Object.freeze({ status: 'done', query: text, results: Object.freeze(results) }));
        },
        (err: unknown) => {
          if (current)
            setState(
              Object.freeze({
                status: 'error',
                query: text,
                error: err instanceof Error ? err : new Error(String(err)),
              }),
            );
        },
      );
    }, debounceMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, text, debounceMs, minLength]);
  return state;
}
