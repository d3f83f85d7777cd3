/**
 * Web Push in the demo. Once the user allows notifications, the page subscribes through the service worker
 * with the server's VAPID key and registers the subscription with the server; `public/sw.js` shows the
 * notification (ids and counts only) and focuses the app when it is clicked. The server notifies a user only
 * when none of their devices is online, so a closed tab is what gets notified; an open but hidden tab shows
 * its own notifications through the same service worker (`chat/notifications.ts`).
 */
import type { ChatClient } from '@natter/client';

/** Called by the app around a signed-in session. */
export interface PushHook {
  /** The user signed in and the client is connecting. */
  signedIn(client: ChatClient, registration: ServiceWorkerRegistration | undefined): Promise<void>;
  /** The user logged out (the server already dropped the device's subscription). */
  signedOut(): Promise<void>;
}

function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const padded = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Subscribes this browser and registers it with the server. Quietly does nothing where push is unavailable. */
async function subscribe(client: ChatClient, registration: ServiceWorkerRegistration): Promise<void> {
  const key = await client.http.vapidPublicKey().catch(() => undefined);
  if (!key) return; // the server has no Web Push configured
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(key),
    }));
  const json = subscription.toJSON();
  if (!json.endpoint || !json.keys?.p256dh || !json.keys.auth) return;
  await client.http.registerPush({
    kind: 'webpush',
    endpoint: json.endpoint,
    keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
  });
}

/**
 * The demo's hook. The permission prompt is never shown on load nor on a stray click: the app offers a
 * "Turn on notifications" button (see `chat/Notifications.tsx`) and calls {@link PushHook.signedIn} again
 * once the user allowed them.
 */
export const pushHook: PushHook = {
  async signedIn(client, registration) {
    if (!registration || !('PushManager' in window) || !('Notification' in window)) return;
    if (Notification.permission === 'granted') await subscribe(client, registration).catch(() => {});
  },
  async signedOut() {
    if (!('serviceWorker' in navigator)) return;
    const registration = await navigator.serviceWorker.getRegistration();
    await (await registration?.pushManager.getSubscription())?.unsubscribe();
  },
};
