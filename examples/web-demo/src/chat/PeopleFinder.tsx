/** A search box for people by username, with results to pick; used by the dialogs and the group panel. */
import type { UserProfile } from '@natter/client';
import { Avatar, useChatStores } from '@natter/react';
import type { ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';

export interface PeopleFinderProps {
  id: string;
  label: string;
  /** The verb of a result ("Add", "Chat"): a result's button is named "Add Bob". */
  action: string;
  /** People not to offer (members already in, people already picked). */
  exclude: ReadonlySet<string>;
  /** When set, picking is disabled and this is shown instead. */
  disabledReason?: string | undefined;
  onPick(user: UserProfile): void;
  /** Focus the field when shown. */
  autoFocus?: boolean;
}

/**
 * Type a username prefix, pick a person: the whole result (avatar, name, handle) is one button, and picking
 * clears the query and returns to the field for the next person.
 */
export function PeopleFinder(props: PeopleFinderProps): ReactNode {
  const { id, label, action, exclude, disabledReason, onPick, autoFocus } = props;
  const stores = useChatStores();
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<
    { query: string; users: UserProfile[] } | { query: string; error: true }
  >();
  const input = useRef<HTMLInputElement>(null);
  const me = stores.client.userId;

  useEffect(() => {
    const prefix = query.trim().replace(/^@/, '').toLowerCase();
    if (!prefix) {
      setFound(undefined);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      stores.client.searchUsers(prefix, 10).then(
        (users) => {
          stores.users.remember(users);
          if (current) setFound({ query: prefix, users: users.filter((u) => u.id !== me) });
        },
        () => {
          if (current) setFound({ query: prefix, error: true });
        },
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, stores, me]);

  const offered = found && 'users' in found ? found.users.filter((u) => !exclude.has(u.id)) : [];
  const status = disabledReason
    ? disabledReason
    : found && 'error' in found
      ? 'Search failed; are you offline?'
      : found && offered.length === 0
        ? 'No one found.'
        : '';

  const pick = (user: UserProfile) => {
    onPick(user);
    setQuery('');
    setFound(undefined);
    input.current?.focus();
  };

  return (
    <div className="people-finder">
      <label htmlFor={id}>{label}</label>
      <input
        ref={input}
        id={id}
        type="search"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        placeholder="Type a username, e.g. bob"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        aria-controls={`${id}-results`}
        // biome-ignore lint/a11y/noAutofocus: the field is what the dialog opens for
        autoFocus={autoFocus}
      />
      <p className="hint" role="status">
        {status}
      </p>
      <ul className="people-results" id={`${id}-results`}>
        {offered.map((user) => (
          <li key={user.id}>
            <button
              type="button"
              className="person"
              disabled={disabledReason !== undefined}
              aria-label={`${action} ${user.displayName}`}
              onClick={() => pick(user)}
            >
              <Avatar id={user.id} />
              <span className="user-line">
                <span className="user-name">{user.displayName}</span>
                <span className="user-handle">@{user.username}</span>
              </span>
              <span className="person-action" aria-hidden="true">
                {action}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
