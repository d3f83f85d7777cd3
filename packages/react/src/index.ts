/**
 * React bindings for natter: {@link NatterProvider} over the app's `ChatClient`, hooks built on
 * `useSyncExternalStore` (immutable snapshots; rows keep their objects while unchanged), and accessible
 * components themed with CSS variables.
 * @packageDocumentation
 */

export {
  Attachments,
  type AttachmentsProps,
  formatBytes,
  placeholderUrl,
} from './components/Attachments.js';
export { Avatar, type AvatarProps, PresenceDot, type PresenceDotProps } from './components/Avatar.js';
export { ChannelList, type ChannelListProps } from './components/ChannelList.js';
export { ChatTheme, type ChatThemeProps } from './components/ChatTheme.js';
export { Composer, type ComposerProps } from './components/Composer.js';
export { DeviceList, type DeviceListProps } from './components/DeviceList.js';
export { EncryptedBadge, type EncryptedBadgeProps } from './components/EncryptedBadge.js';
export { MessageList, type MessageListProps } from './components/MessageList.js';
export { MessageRow, type MessageRowProps } from './components/MessageRow.js';
export {
  MessageEditor,
  MessageToolbar,
  type MessageToolbarProps,
  ReplyQuote,
  ThreadSummary,
} from './components/MessageTools.js';
export {
  EmojiPicker,
  type EmojiPickerProps,
  QUICK_EMOJIS,
  Reactions,
  type ReactionsProps,
} from './components/Reactions.js';
export { ReadReceipts, type ReadReceiptsProps } from './components/ReadReceipts.js';
export { ReplyBanner, type ReplyBannerProps } from './components/ReplyBanner.js';
export { REPORT_REASON_LABELS, ReportDialog, type ReportDialogProps } from './components/ReportDialog.js';
export { SearchPanel, type SearchPanelProps } from './components/SearchPanel.js';
export {
  formatWait,
  SlowModeNotice,
  type SlowModeState,
  useSlowMode,
} from './components/SlowModeNotice.js';
export { Thread, type ThreadProps } from './components/Thread.js';
export { TypingIndicator, type TypingIndicatorProps } from './components/TypingIndicator.js';
export { NATTER_CSS } from './components/theme-css.js';
export { AttachButton, UploadTray } from './components/UploadTray.js';
export { type DevicesState, type DeviceView, type UseDevicesOptions, useDevices } from './devices.js';
export {
  type MessagesView,
  type SendOptions,
  useChannels,
  useConnectionState,
  useJumpToMessage,
  useMarkRead,
  useMessages,
  usePresence,
  useReadReceipts,
  useSend,
  useTyping,
  useUser,
  useUsers,
} from './hooks.js';
export {
  type ChannelUiView,
  type MessageActions,
  type ReactorsState,
  type ThreadView,
  useChannelUi,
  useChannelUiActions,
  useIsEditing,
  useIsThreadOpen,
  useMessageActions,
  useReactors,
  useThread,
} from './hooks-lifecycle.js';
export { NatterProvider, type NatterProviderProps, useChatClient, useChatStores } from './provider.js';
export { type SearchOptions, type SearchState, useSearch } from './search.js';
export type { ChannelUi } from './stores/channel-ui.js';
export type { ChannelsSnapshot, ChannelView } from './stores/channels.js';
export { ChatStores, type ChatStoresOptions, type KitSendOptions } from './stores/chat-stores.js';
export type { ConnectionSnapshot } from './stores/connection.js';
export { decryptionFailedText, type EncryptedEntries } from './stores/encrypted-entries.js';
export type { LifecycleChange } from './stores/lifecycle-feed.js';
export type {
  Attachment,
  MessageItem,
  MessageItems,
  PendingItem,
  SendExtras,
  SentItem,
} from './stores/message-items.js';
export type { MessageFocus, MessagesSnapshot, MessagesStoreOptions, OlderPage } from './stores/messages.js';
export type { ThreadSnapshot } from './stores/thread.js';
export { attachmentOf, type UploadItem, type UploadsView, useUpload } from './upload.js';
