/** What the signed-in views share: the session, navigation, the side panel and notices. */
import type { Session } from '@natter/client';
import { createContext, useContext } from 'react';
import type { DemoChatClient } from '../client-factory.js';

/** The side panel: one at a time. */
export type Panel = { kind: 'none' } | { kind: 'details' } | { kind: 'search' } | { kind: 'mentions' };

/** The signed-in app's shared state and actions. */
export interface DemoApp {
  session: Session;
  client: DemoChatClient;
  /** The open conversation. */
  activeId: string | undefined;
  /** Opens a conversation (or the list, on phones) and gives it a history entry. */
  open(channelId: string | undefined): void;
  /** Opens a conversation at one message (search results, mentions) and marks it. */
  jumpTo(channelId: string, seq: number): void;
  panel: Panel;
  showPanel(panel: Panel): void;
  /** Shows a short notice (errors of user actions). */
  notify(text: string): void;
}

export const DemoAppContext = createContext<DemoApp | undefined>(undefined);

/** The signed-in app's shared state. */
export function useDemoApp(): DemoApp {
  const app = useContext(DemoAppContext);
  if (!app) throw new Error('useDemoApp outside the signed-in app');
  return app;
}
