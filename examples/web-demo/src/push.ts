/**
 * Where Web Push plugs into the demo. Push notifications are a separate piece of work (the push issue): it
 * will fetch the VAPID key (`client.http.vapidPublicKey()`), subscribe through the service worker
 * (`public/sw.js` then handles `push` and `notificationclick`) and register the subscription with
 * `client.http.registerPush(...)`. Until then the hook does nothing.
 */
import type { ChatClient } from '@natter/client';

/** Called by the app around a signed-in session. */
export interface PushHook {
  /** The user signed in and the client is connecting. */
  signedIn(client: ChatClient, registration: ServiceWorkerRegistration | undefined): Promise<void>;
  /** The user logged out (the server already dropped the device's subscription). */
  signedOut(): Promise<void>;
}

/** The hook in use: none yet. */
export const pushHook: PushHook = {
  signedIn: async () => {},
  signedOut: async () => {},
};
