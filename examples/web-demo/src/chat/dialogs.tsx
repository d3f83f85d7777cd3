/** Modal dialogs (native `<dialog>`: focus trap and Escape for free): a new 1-1 chat and a new group. */
import type { UserProfile } from '@natter/client';
import { useChatClient, useChatStores } from '@natter/react';
import type { FormEvent, ReactNode } from 'react';
import { useEffect, useRef, useState } from 'react';
import { useDemoApp } from './app-context.js';
import { describeError } from './hooks.js';
import { PeopleFinder } from './PeopleFinder.js';

/** A modal dialog with a title and a Close button; `open` shows it, Escape and Close call `onClose`. */
export function Dialog(props: {
  id: string;
  title: string;
  open: boolean;
  onClose(): void;
  children: ReactNode;
}) {
  const { id, title, open, onClose, children } = props;
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      id={id}
      className="dialog"
      aria-labelledby={`${id}-title`}
      onClose={onClose}
      // Escape closes the dialog only, not the side panel a dialog may be opened from.
      onKeyDown={(event) => event.stopPropagation()}
    >
      {open ? (
        <>
          <header className="panel-head">
            <h2 id={`${id}-title`}>{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ✕
            </button>
          </header>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

const NOBODY: ReadonlySet<string> = new Set();

/** The "End-to-end encrypted" checkbox of both dialogs: MLS on every device of every member (docs/e2ee.md). */
function EncryptedChoice(props: { id: string; checked: boolean; onChange(checked: boolean): void }) {
  return (
    <div className="field-inline">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <label htmlFor={props.id}>End-to-end encrypted</label>
    </div>
  );
}

/** "New chat": find a person, open the 1-1 conversation. */
export function NewChatDialog({ open, onClose }: { open: boolean; onClose(): void }): ReactNode {
  const app = useDemoApp();
  const client = useChatClient();
  const stores = useChatStores();
  const [error, setError] = useState('');
  const [encrypted, setEncrypted] = useState(false);
  const start = (user: UserProfile) => {
    setError('');
    client.openDirect(user.id, { encrypted }).then(
      async (channel) => {
        // The list as the server has it (with `encrypted`, which the sync's `created` entry lacks).
        await stores.channels.refresh().catch(() => undefined);
        app.open(channel.id);
        onClose();
      },
      (err: unknown) => setError(describeError(err)),
    );
  };
  return (
    <Dialog id="new-chat" title="New chat" open={open} onClose={onClose}>
      <div className="panel-body">
        <EncryptedChoice id="new-chat-encrypted" checked={encrypted} onChange={setEncrypted} />
        <PeopleFinder
          id="new-chat-search"
          label="Find a person by username"
          action="Chat with"
          exclude={NOBODY}
          onPick={start}
          autoFocus
        />
        <p className="form-error" role="alert">
          {error}
        </p>
      </div>
    </Dialog>
  );
}

/**
 * "New group": a name and at least one other person (a group of one is a note to self, which the demo does
 * not offer), with the member limit counted as people are picked.
 */
export function NewGroupDialog({ open, onClose }: { open: boolean; onClose(): void }): ReactNode {
  return (
    <Dialog id="new-group" title="New group" open={open} onClose={onClose}>
      <NewGroupForm onDone={onClose} />
    </Dialog>
  );
}

function NewGroupForm({ onDone }: { onDone(): void }): ReactNode {
  const app = useDemoApp();
  const client = useChatClient();
  const stores = useChatStores();
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<UserProfile[]>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [encrypted, setEncrypted] = useState(false);
  const max = client.limits.maxGroupMembers;
  // The creator counts towards the limit.
  const size = picked.length + 1;
  const missing =
    name.trim() === '' ? 'Name the group.' : picked.length === 0 ? 'Add at least one person.' : '';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (missing || busy) return;
    setBusy(true);
    setError('');
    client
      .createGroup(
        name.trim(),
        picked.map((u) => u.id),
        { encrypted },
      )
      .then(
        async (channel) => {
          // The list as the server has it (with `encrypted`, which the sync's `created` entry lacks).
          await stores.channels.refresh().catch(() => undefined);
          app.open(channel.id);
          onDone();
        },
        (err: unknown) => {
          setBusy(false);
          setError(describeError(err));
        },
      );
  };

  return (
    <form className="panel-body" onSubmit={submit} aria-describedby="new-group-missing">
      <div className="field">
        <label htmlFor="new-group-name">Group name</label>
        <input
          id="new-group-name"
          required
          maxLength={100}
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.target.value)}
          // biome-ignore lint/a11y/noAutofocus: the dialog opens for this field
          autoFocus
        />
      </div>
      <PeopleFinder
        id="new-group-search"
        label="Add people"
        action="Add"
        exclude={new Set(picked.map((u) => u.id))}
        disabledReason={size >= max ? `A group can have at most ${max} members.` : undefined}
        onPick={(user) => setPicked((list) => [...list, user])}
      />
      <p className="hint" id="new-group-count" role="status">
        {size} of {max} members, you included.
      </p>
      <EncryptedChoice id="new-group-encrypted" checked={encrypted} onChange={setEncrypted} />
      <ul className="chips" aria-label="People in the new group">
        {picked.map((user) => (
          <li key={user.id} className="chip">
            {user.displayName}
            <button
              type="button"
              aria-label={`Remove ${user.displayName}`}
              onClick={() => setPicked((list) => list.filter((u) => u.id !== user.id))}
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
      <p className="form-error" role="alert">
        {error}
      </p>
      <p className="hint" id="new-group-missing">
        {missing}
      </p>
      <button type="submit" className="primary wide" disabled={missing !== '' || busy}>
        Create group
      </button>
    </form>
  );
}
