import type { ChatClient } from '@natter/client';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { ChatStores, type ChatStoresOptions } from './stores/chat-stores.js';

const StoresContext = createContext<ChatStores | undefined>(undefined);

/** Props of {@link NatterProvider}. */
export interface NatterProviderProps {
  /** The app's client: created, logged in and connected by the app (the provider never closes it). */
  client: ChatClient;
  /** Options of the stores behind the hooks. @default see each field */
  options?: ChatStoresOptions;
  children?: ReactNode;
}

/**
 * Makes a {@link ChatClient} available to the hooks and components below. One set of stores per client:
 * every hook reading the same channel shares one store, and so one request and one listener.
 */
export function NatterProvider({ client, options, children }: NatterProviderProps): ReactNode {
  // Stores do nothing until subscribed, so making them in render is safe. A different client (another
  // account after logout) gets fresh stores; options are read once per client.
  // biome-ignore lint/correctness/useExhaustiveDependencies: options are read once per client on purpose
  const stores = useMemo(() => new ChatStores(client, options), [client]);
  return <StoresContext.Provider value={stores}>{children}</StoresContext.Provider>;
}

/** The stores of the nearest provider. @throws Error outside a {@link NatterProvider} */
export function useChatStores(): ChatStores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('natter hooks need a <NatterProvider client={client}> above them');
  return stores;
}

/** The {@link ChatClient} of the nearest provider, for calls the hooks do not wrap. */
export function useChatClient(): ChatClient {
  return useChatStores().client;
}
