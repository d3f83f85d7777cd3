/**
 * Registers the service worker that keeps the app shell (HTML, JS, CSS) available offline, so a reload
 * without network still opens the app with its cached conversations and pending messages.
 */

/** Registers `/sw.js` in production builds; resolves with the registration, if any. */
export async function registerOfflineShell(): Promise<ServiceWorkerRegistration | undefined> {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return undefined;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch (err) {
    console.warn('[natter] offline support unavailable:', err);
    return undefined;
  }
}
