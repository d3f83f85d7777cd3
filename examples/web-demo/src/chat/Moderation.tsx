/**
 * Moderation as the demo's users meet it: block, unblock and report a person (a 1-1 conversation's Info
 * panel), the list of blocked people (account menu), and for group admins bans and slow mode (Group info).
 * Every action asks the server; a confirmation says what the action does before it is taken.
 */
import type { Ban, CachedChannel } from '@natter/client';
import { Avatar, formatWait, ReportDialog, useChatClient, useUser, useUsers } from '@natter/react';
import type { ReactNode } from 'react';
import { useCallback, useEffect, useState } from 'react';
import { useDemoApp } from './app-context.js';
import { useBlocks } from './blocks.js';
import { Dialog } from './dialogs.js';
import { describeError } from './hooks.js';

/** A yes/no question in a modal dialog; the safe answer (Cancel) has the focus. */
function Confirm(props: {
  id: string;
  title: string;
  open: boolean;
  action: string;
  onConfirm(): void;
  onClose(): void;
  children: ReactNode;
}): ReactNode {
  const { id, title, open, action, onConfirm, onClose, children } = props;
  return (
    <Dialog id={id} title={title} open={open} onClose={onClose}>
      <div className="panel-body confirm-body">
        {children}
        <div className="dialog-buttons">
          <button type="button" className="danger" onClick={onConfirm}>
            {action}
          </button>
          {/* biome-ignore lint/a11y/noAutofocus: the safe answer takes the focus when the question opens */}
          <button type="button" className="small" autoFocus onClick={onClose}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
}

/** Block or unblock, and report, the other person of a 1-1 conversation. */
export function ContactModeration({ peerId }: { peerId: string }): ReactNode {
  const app = useDemoApp();
  const blocks = useBlocks();
  const peer = useUser(peerId);
  const name = peer?.displayName ?? 'this person';
  const [dialog, setDialog] = useState<'none' | 'block' | 'report'>('none');
  const [busy, setBusy] = useState(false);
  const blocked = blocks.isBlocked(peerId);
  const run = (action: Promise<void>, done: string) => {
    setBusy(true);
    action.then(
      () => {
        setBusy(false);
        app.notify(done);
      },
      (err: unknown) => {
        setBusy(false);
        app.notify(describeError(err));
      },
    );
  };
  return (
    <div className="moderation">
      <h3 className="section-heading">Safety</h3>
      {blocked ? (
        <>
          <p className="hint" id="blocked-note">
            You blocked {name}. They cannot message you here, and neither of you sees the other’s presence.
          </p>
          <button
            type="button"
            className="small"
            id="unblock-user"
            disabled={busy || blocks.snapshot.phase !== 'ready'}
            onClick={() => run(blocks.unblock(peerId), `${name} is unblocked.`)}
          >
            Unblock {name}
          </button>
        </>
      ) : (
        <button
          type="button"
          className="danger"
          id="block-user"
          disabled={busy || blocks.snapshot.phase !== 'ready'}
          onClick={() => setDialog('block')}
        >
          Block {name}
        </button>
      )}
      <button type="button" className="danger" id="report-user" onClick={() => setDialog('report')}>
        Report {name}
      </button>
      <Confirm
        id="confirm-block"
        title={`Block ${name}?`}
        open={dialog === 'block'}
        action="Block"
        onClose={() => setDialog('none')}
        onConfirm={() => {
          setDialog('none');
          run(blocks.block(peerId), `${name} is blocked.`);
        }}
      >
        <p>
          {name} will not be able to send you messages in this conversation, and neither of you will see
          whether the other is online or typing. They are not told that you blocked them.
        </p>
        <p className="hint">
          This conversation and its history stay. Groups you share work as before. You can unblock at any
          time.
        </p>
      </Confirm>
      {dialog === 'report' ? (
        <ReportDialog
          target={{ kind: 'user', userId: peerId }}
          name={name}
          onClose={() => setDialog('none')}
        />
      ) : null}
    </div>
  );
}

/** "Blocked people" from the account menu: everyone the user blocked, each with Unblock. */
export function BlockedPeopleDialog({ open, onClose }: { open: boolean; onClose(): void }): ReactNode {
  return (
    <Dialog id="blocked-people" title="Blocked people" open={open} onClose={onClose}>
      <BlockedPeople />
    </Dialog>
  );
}

function BlockedPeople(): ReactNode {
  const app = useDemoApp();
  const blocks = useBlocks();
  const ids = blocks.snapshot.phase === 'ready' ? blocks.snapshot.blocks.map((b) => b.userId) : [];
  const users = useUsers(ids);
  const { snapshot } = blocks;
  return (
    <div className="panel-body">
      {snapshot.phase === 'loading' ? <p className="hint">Loading…</p> : null}
      {snapshot.phase === 'error' ? <p className="form-error">{describeError(snapshot.error)}</p> : null}
      {snapshot.phase === 'ready' && ids.length === 0 ? (
        <p className="hint">You have not blocked anyone. Block someone from their conversation’s Info.</p>
      ) : null}
      {ids.length > 0 ? (
        <ul className="members" aria-label="Blocked people">
          {ids.map((id) => {
            const name = users.get(id)?.displayName ?? '';
            return (
              <li key={id}>
                <Avatar id={id} />
                <span className="member-main">
                  <span className="user-name">{name}</span>
                  {users.get(id) ? <span className="user-handle">@{users.get(id)?.username}</span> : null}
                </span>
                <button
                  type="button"
                  className="small"
                  aria-label={`Unblock ${name}`}
                  onClick={() =>
                    blocks.unblock(id).then(
                      () => app.notify(`${name} is unblocked.`),
                      (err: unknown) => app.notify(describeError(err)),
                    )
                  }
                >
                  Unblock
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}

/** The slow-mode choices a group admin has. */
const SLOW_MODE_CHOICES = [0, 10, 30, 60, 300] as const;

/** Group admins: the slow-mode selector and the banned people with Unban. */
export function GroupModeration({ channel }: { channel: CachedChannel }): ReactNode {
  const app = useDemoApp();
  const client = useChatClient();
  const current = channel.slowModeSeconds ?? 0;
  const bans = useBans(channel.id, channel.memberIds.length);
  const users = useUsers(bans.list.map((b) => b.userId));
  const setSlowMode = (seconds: number) =>
    client.setSlowMode(channel.id, seconds).then(
      () => client.listChannels().catch(() => undefined),
      (err: unknown) => app.notify(describeError(err)),
    );
  const choices = SLOW_MODE_CHOICES.includes(current as (typeof SLOW_MODE_CHOICES)[number])
    ? SLOW_MODE_CHOICES
    : [...SLOW_MODE_CHOICES, current];
  return (
    <div className="moderation">
      <h3 className="section-heading">Moderation</h3>
      <label className="field-inline" htmlFor="slow-mode">
        Slow mode
        <select id="slow-mode" value={current} onChange={(e) => void setSlowMode(Number(e.target.value))}>
          {choices.map((s) => (
            <option key={s} value={s}>
              {s === 0 ? 'Off' : formatWait(s)}
            </option>
          ))}
        </select>
      </label>
      <p className="hint" id="slow-mode-hint">
        {current === 0
          ? 'Members may send as often as they like.'
          : `Each member may send one message every ${formatWait(current)}. Admins are exempt.`}
      </p>
      <h4 id="bans-heading" className="section-heading">
        Banned
      </h4>
      {bans.error ? <p className="form-error">{bans.error}</p> : null}
      {bans.list.length === 0 && !bans.error ? (
        <p className="hint">Nobody is banned. A banned person is removed and cannot be added back.</p>
      ) : (
        <ul className="members" aria-labelledby="bans-heading">
          {bans.list.map(({ userId }) => {
            const name = users.get(userId)?.displayName ?? '';
            return (
              <li key={userId}>
                <Avatar id={userId} />
                <span className="member-main">
                  <span className="user-name">{name}</span>
                </span>
                <button
                  type="button"
                  className="small"
                  aria-label={`Unban ${name}`}
                  onClick={() =>
                    client.unban(channel.id, userId).then(
                      () => {
                        app.notify(`${name} is unbanned. Add them again to bring them back.`);
                        bans.reload();
                      },
                      (err: unknown) => app.notify(describeError(err)),
                    )
                  }
                >
                  Unban
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** A group's bans, loaded when shown and again when `version` (the member count) changes. */
function useBans(channelId: string, version: number): { list: Ban[]; error?: string; reload(): void } {
  const client = useChatClient();
  const [state, setState] = useState<{ list: Ban[]; error?: string }>({ list: [] });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` and `tick` are reload triggers
  useEffect(() => {
    let live = true;
    client.bans(channelId).then(
      (list) => live && setState({ list }),
      (err: unknown) => live && setState({ list: [], error: describeError(err) }),
    );
    return () => {
      live = false;
    };
  }, [client, channelId, version, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** "Ban" beside a member (group admins), with a confirmation saying what a ban does. */
export function BanButton(props: { channel: CachedChannel; userId: string; name: string }): ReactNode {
  const { channel, userId, name } = props;
  const app = useDemoApp();
  const client = useChatClient();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="small" aria-label={`Ban ${name}`} onClick={() => setOpen(true)}>
        Ban
      </button>
      <Confirm
        id={`confirm-ban-${userId}`}
        title={`Ban ${name}?`}
        open={open}
        action="Ban"
        onClose={() => setOpen(false)}
        onConfirm={() => {
          setOpen(false);
          client.ban(channel.id, userId).then(
            async () => {
              await client.listChannels().catch(() => undefined);
              app.notify(`${name} is banned from “${channel.name ?? 'the group'}”.`);
            },
            (err: unknown) => app.notify(describeError(err)),
          );
        }}
      >
        <p>
          {name} will be removed from “{channel.name}” and nobody can add them back until an admin unbans
          them. Members see that {name} was removed.
        </p>
      </Confirm>
    </>
  );
}
