/**
 * Username → user id of everyone who signed in on this browser. Avatar colours derive from the user id
 * (the kit's rule: a person has one colour everywhere), so the sign-in screen can draw a demo user's
 * avatar in the colour the app will use only once it knows the id; before that it draws a neutral one
 * rather than a colour that would change after sign-in.
 */
import type { UserProfile } from '@natter/client';

const KEY = 'natter-demo.known-users';

function read(): Record<string, string> {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Records a signed-in user's id. */
export function rememberUserId(user: UserProfile): void {
  const known = read();
  if (known[user.username] === user.id) return;
  known[user.username] = user.id;
  try {
    localStorage.setItem(KEY, JSON.stringify(known));
  } catch {
    // Storage full: the avatar stays neutral.
  }
}

/** The id of a username seen here before. */
export function knownUserId(username: string): string | undefined {
  return read()[username.toLowerCase()];
}
