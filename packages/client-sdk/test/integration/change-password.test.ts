import { ErrorCode } from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/index.js';
import { client, type RunningServer, startServer } from './harness.js';

describe('ChatClient.changePassword', () => {
  let running: RunningServer | undefined;
  const clients: ChatClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await running?.stop();
  });

  it('changes the password, keeps this client signed in, and ends the other device’s session', async () => {
    running = await startServer();
    const phone = client(running.url);
    const laptop = client(running.url);
    clients.push(phone, laptop);
    await phone.signup('carol', 'a fine old passphrase');
    await laptop.login('carol', 'a fine old passphrase');
    await expect(phone.changePassword('wrong one', 'a brand new passphrase')).rejects.toMatchObject({
      code: ErrorCode.INVALID_CREDENTIALS,
    });
    await expect(phone.changePassword('a fine old passphrase', 'password1')).rejects.toMatchObject({
      code: ErrorCode.WEAK_PASSWORD,
    });
    await phone.changePassword('a fine old passphrase', 'a brand new passphrase');
    // This client goes on with its new session; the laptop's token is refused.
    expect((await phone.me()).username).toBe('carol');
    await expect(laptop.me()).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
  });
});
