import {
  ChannelList,
  ChatTheme,
  Composer,
  MessageList,
  SearchPanel,
  TypingIndicator,
  useChannels,
  useChatClient,
  useConnectionState,
  useJumpToMessage,
  useUser,
} from '@natter/react';
import { type CSSProperties, type FormEvent, useState } from 'react';

const layout: CSSProperties = { display: 'grid', gridTemplateColumns: '300px 1fr', height: '100vh' };
const sidebar: CSSProperties = {
  borderRight: '1px solid var(--natter-border)',
  overflowY: 'auto',
  padding: 8,
};
const main: CSSProperties = { display: 'flex', flexDirection: 'column', minHeight: 0, height: '100vh' };

/** The chat: channels on the left, the open channel on the right, search and a theme switch. */
export function App() {
  const [channelId, setChannelId] = useState<string>();
  const [theme, setTheme] = useState<'light' | 'dark'>('light');
  const [searching, setSearching] = useState(false);
  const { status } = useConnectionState();
  const jumpTo = useJumpToMessage();
  return (
    <ChatTheme theme={theme}>
      <div style={layout}>
        <aside style={sidebar} aria-label="Sidebar">
          <p role="status" className="connection" data-status={status}>
            {status === 'open'
              ? 'Connected'
              : status === 'reconnecting' || status === 'connecting'
                ? 'Connecting…'
                : 'Offline'}
          </p>
          <button type="button" onClick={() => setTheme(theme === 'light' ? 'dark' : 'light')}>
            {theme === 'light' ? 'Dark theme' : 'Light theme'}
          </button>{' '}
          <button type="button" aria-pressed={searching} onClick={() => setSearching(!searching)}>
            Search
          </button>
          <NewChat onOpened={setChannelId} />
          {searching ? (
            <SearchPanel
              onSelect={(message) => {
                setChannelId(message.channelId);
                setSearching(false);
                void jumpTo(message.channelId, message.seq);
              }}
            />
          ) : null}
          <ChannelList selectedId={channelId} onSelect={setChannelId} />
        </aside>
        <main style={main}>
          {channelId ? (
            <>
              <ChannelHeader channelId={channelId} />
              <MessageList key={channelId} channelId={channelId} />
              <TypingIndicator channelId={channelId} />
              <Composer key={`c-${channelId}`} channelId={channelId} />
            </>
          ) : (
            <p style={{ margin: 'auto' }}>Pick a conversation.</p>
          )}
        </main>
      </div>
    </ChatTheme>
  );
}

function ChannelHeader({ channelId }: { channelId: string }) {
  const { channels } = useChannels();
  const { userId } = useConnectionState();
  const channel = channels.find((c) => c.channel.id === channelId)?.channel;
  const other = channel?.kind === 'direct' ? channel.memberIds.find((id) => id !== userId) : undefined;
  const user = useUser(other);
  const title = channel?.kind === 'group' ? (channel.name ?? 'Group') : (user?.displayName ?? '');
  return (
    <h2
      style={{
        margin: 0,
        padding: '12px 16px',
        borderBottom: '1px solid var(--natter-border)',
        fontSize: 18,
      }}
    >
      {title}
    </h2>
  );
}

/** Opens a direct conversation by username. */
function NewChat({ onOpened }: { onOpened(channelId: string): void }) {
  const client = useChatClient();
  const [error, setError] = useState<string>();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem('username') as HTMLInputElement;
    const username = input.value.trim().toLowerCase();
    setError(undefined);
    try {
      const user = (await client.searchUsers(username)).find((u) => u.username === username);
      if (!user) throw new Error(`No user named ${username}`);
      onOpened((await client.openDirect(user.id)).id);
      input.value = '';
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form onSubmit={submit} style={{ display: 'flex', gap: 4, margin: '8px 0' }}>
      <input
        name="username"
        aria-label="Start a chat with (username)"
        placeholder="Username"
        style={{ flex: 1 }}
      />
      <button type="submit">Chat</button>
      {error ? <span role="alert">{error}</span> : null}
    </form>
  );
}
