/**
 * React bindings for natter: {@link NatterProvider} over the app's `ChatClient`, hooks built on
 * `useSyncExternalStore` (immutable snapshots; rows keep their objects while unchanged), and accessible
 * components themed with CSS variables.
 * @packageDocumentation
 */
export {
  type MessagesView,
  type SendOptions,
  useChannels,
  useConnectionState,
  useMarkRead,
  useMessages,
  usePresence,
  useReadReceipts,
  useSend,
  useTyping,
  useUser,
  useUsers,
} from './hooks.js';
export { NatterProvider, type NatterProviderProps, useChatClient, useChatStores } from './provider.js';
export { type SearchOptions, type SearchState, useSearch } from './search.js';
export type { ChannelsSnapshot, ChannelView } from './stores/channels.js';
export { ChatStores, type ChatStoresOptions } from './stores/chat-stores.js';
export type { ConnectionSnapshot } from './stores/connection.js';
export type { MessageItem, MessageItems, PendingItem, SentItem } from './stores/message-items.js';
export type { MessagesSnapshot, MessagesStoreOptions, OlderPage } from './stores/messages.js';
