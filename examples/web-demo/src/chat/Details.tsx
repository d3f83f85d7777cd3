/**
 * Conversation details: a contact's profile with block and report, or a group's name (rename), members with
 * the member limit, adding, removing and (admins) banning people, slow mode, and leaving. The server has the
 * last word on every action.
 */
import type { CachedChannel } from '@natter/client';
import { Avatar, useChatClient, usePresence, useUser, useUsers } from '@natter/react';
import type { FormEvent, ReactNode } from 'react';
import { useState } from 'react';
import { useDemoApp } from './app-context.js';
import { useBlocks } from './blocks.js';
import { EncryptionDetails } from './Encryption.js';
import { describeError, presenceLabel, useNow, usePresenceKnown, usePresenceOf } from './hooks.js';
import { BanButton, ContactModeration, GroupModeration } from './Moderation.js';
import { PeopleFinder } from './PeopleFinder.js';

/** The details of a conversation. */
export function Details({ channel }: { channel: CachedChannel }): ReactNode {
  return channel.kind === 'group' ? <GroupDetails channel={channel} /> : <Contact channel={channel} />;
}

function Contact({ channel }: { channel: CachedChannel }): ReactNode {
  const me = useDemoApp().session.user.id;
  const peerId = channel.memberIds.find((id) => id !== me) ?? '';
  const peer = useUser(peerId);
  const presence = usePresence(peerId);
  const known = usePresenceKnown();
  const now = useNow(15_000);
  const blocked = useBlocks().isBlocked(peerId);
  return (
    <>
      <div className="profile">
        <Avatar id={peerId} presence={!blocked} />
        <h3>{peer?.displayName ?? ''}</h3>
        {peer ? <p className="user-handle">@{peer.username}</p> : null}
        <p className="subtitle" id="contact-status">
          {blocked ? 'Blocked' : known ? presenceLabel(presence, now) : 'waiting for network…'}
        </p>
      </div>
      <EncryptionDetails channel={channel} />
      <ContactModeration peerId={peerId} />
    </>
  );
}

/** Channels do not list admins: the creator is one, and anyone once the creator has left (admin passes on). */
function mayRemove(channel: CachedChannel, me: string): boolean {
  return channel.createdBy === me || !channel.memberIds.includes(channel.createdBy);
}

function GroupDetails({ channel }: { channel: CachedChannel }): ReactNode {
  const app = useDemoApp();
  const client = useChatClient();
  const me = app.session.user.id;
  const max = client.limits.maxGroupMembers;
  const users = useUsers(channel.memberIds);
  const presence = usePresenceOf(channel.memberIds);
  const known = usePresenceKnown();
  const now = useNow(15_000);
  const [name, setName] = useState(channel.name ?? '');
  const count = channel.memberIds.length;
  const full = count >= max ? `The group is full: ${max} of ${max} members.` : undefined;
  const canRemove = mayRemove(channel, me);
  const fail = (err: unknown) => app.notify(describeError(err));
  const refresh = () => client.listChannels().catch(() => undefined);
  const nameOf = (id: string) => users.get(id)?.displayName ?? '';

  const rename = (event: FormEvent) => {
    event.preventDefault();
    const next = name.trim();
    if (next && next !== channel.name) client.renameGroup(channel.id, next).then(refresh, fail);
  };
  const members = [...channel.memberIds].sort((a, b) =>
    a === me ? -1 : b === me ? 1 : nameOf(a).localeCompare(nameOf(b)),
  );

  return (
    <>
      <form className="inline-form" onSubmit={rename}>
        <label htmlFor="group-name">Group name</label>
        <div className="row">
          <input
            id="group-name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="small">
            Rename
          </button>
        </div>
      </form>
      <h3 id="members-heading" className="members-heading">
        Members{' '}
        <span className="member-count" id="member-count">
          {count} of {max}
        </span>
      </h3>
      <meter
        id="member-meter"
        min={0}
        max={max}
        low={Math.floor(max * 0.8)}
        high={Math.floor(max * 0.95)}
        value={count}
        aria-labelledby="member-count"
      />
      <p className="hint" id="group-full" role="status">
        {full ?? `Groups can have up to ${max} members.`}
      </p>
      <ul className="members" aria-labelledby="members-heading">
        {members.map((id) => (
          <li key={id}>
            <Avatar id={id} presence={id !== me} />
            <span className="member-main">
              <span className="user-line">
                <span className="user-name">{nameOf(id)}</span>
                {users.get(id) ? <span className="user-handle">@{users.get(id)?.username}</span> : null}
              </span>
              <span className="hint">
                {id === me ? 'you' : known ? presenceLabel(presence.get(id), now) : ''}
                {id === channel.createdBy ? ' · admin' : ''}
              </span>
            </span>
            {canRemove && id !== me ? (
              <span className="member-actions">
                <button
                  type="button"
                  className="small"
                  aria-label={`Remove ${nameOf(id)}`}
                  onClick={() => client.removeMember(channel.id, id).then(refresh, fail)}
                >
                  Remove
                </button>
                <BanButton channel={channel} userId={id} name={nameOf(id)} />
              </span>
            ) : null}
          </li>
        ))}
      </ul>
      <PeopleFinder
        id="add-member"
        label="Add people"
        action="Add"
        exclude={new Set(channel.memberIds)}
        disabledReason={full}
        onPick={(user) => {
          client.addMembers(channel.id, [user.id]).then(refresh, fail);
        }}
      />
      <EncryptionDetails channel={channel} />
      {canRemove ? <GroupModeration channel={channel} /> : null}
      <button
        type="button"
        className="danger"
        onClick={() => {
          if (confirm(`Leave “${channel.name}”? You will stop receiving its messages.`))
            client.leaveGroup(channel.id).then(() => app.open(undefined), fail);
        }}
      >
        Leave group
      </button>
    </>
  );
}
