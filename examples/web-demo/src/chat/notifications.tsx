/**
 * Desktop notifications while the tab is hidden: each new message from someone else, shown through the
 * service worker (`registration.showNotification`, which also works where `new Notification()` does not,
 * and whose click handler in `public/sw.js` focuses the tab and opens the conversation). A closed tab is
 * notified by Web Push instead (`push.ts`): the server pushes only when no device of the user is online.
 */
import type { Message } from '@natter/client';
import { useChatClient, useChatStores } from '@natter/react';
import type { ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { pushHook } from '../push.js';

/** Shown in the notification's body, at most. */
const PREVIEW_CHARS = 140;

function preview(message: Message): string {
  if (message.text)
    return message.text.length > PREVIEW_CHARS ? `${message.text.slice(0, PREVIEW_CHARS)}…` : message.text;
  const first = message.attachments?.[0];
  return first?.kind === 'image' ? 'Photo' : first ? 'File' : 'New message';
}

/** Shows a notification for live messages of others while the page is hidden and permission is granted. */
export function useDesktopNotifications(
  worker: Promise<ServiceWorkerRegistration | undefined>,
  me: string,
  open: (channelId: string) => void,
): void {
  const stores = useChatStores();
  useEffect(() => {
    let registration: ServiceWorkerRegistration | undefined;
    void worker.then((r) => {
      registration = r;
    });
    return stores.client.on('message', ({ message, source }) => {
      // Catching up after a long time away would be a burst of stale alerts; Web Push covered that time.
      if (source !== 'live' || message.kind === 'system' || message.senderId === me) return;
      if (document.visibilityState !== 'hidden' || !registration) return;
      if (!('Notification' in window) || Notification.permission !== 'granted') return;
      const sender = stores.users.get(message.senderId)?.displayName ?? 'Someone';
      const channel = stores.channels.getSnapshot().channels.find((c) => c.channel.id === message.channelId);
      const title =
        channel?.channel.kind === 'group' ? `${sender} in ${channel.channel.name ?? 'a group'}` : sender;
      void registration.showNotification(title, {
        body: preview(message),
        // One notification per conversation: a newer message replaces the older one.
        tag: `natter:${message.channelId}`,
        data: { channelId: message.channelId, seq: message.seq },
      });
    });
  }, [stores, worker, me]);

  // A click on a notification (handled by the service worker) opens its conversation here.
  useEffect(() => {
    if (!('serviceWorker' in navigator)) return;
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: string; channelId?: string } | undefined;
      if (data?.type === 'natter.open' && typeof data.channelId === 'string') open(data.channelId);
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    return () => navigator.serviceWorker.removeEventListener('message', onMessage);
  }, [open]);
}

const DISMISSED = 'natter-demo.notifications-dismissed';

/**
 * "Turn on notifications": the permission is asked only when the user clicks this (browsers require a
 * gesture, and a prompt on load is what users learn to deny). Hidden once answered or dismissed.
 */
export function NotificationPrompt({
  worker,
}: {
  worker: Promise<ServiceWorkerRegistration | undefined>;
}): ReactNode {
  const client = useChatClient();
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');
  const [dismissed, setDismissed] = useState(() => localStorage.getItem(DISMISSED) === '1');
  if (!supported || permission !== 'default' || dismissed) return null;
  return (
    <section className="notify-prompt" aria-label="Notifications">
      <p>Get a notification when a message arrives while this tab is in the background.</p>
      <button
        type="button"
        className="small primary"
        onClick={() =>
          void Notification.requestPermission().then((answer) => {
            setPermission(answer);
            if (answer === 'granted') void worker.then((r) => pushHook.signedIn(client, r));
          })
        }
      >
        Turn on notifications
      </button>
      <button
        type="button"
        className="small link"
        onClick={() => {
          localStorage.setItem(DISMISSED, '1');
          setDismissed(true);
        }}
      >
        Not now
      </button>
    </section>
  );
}
