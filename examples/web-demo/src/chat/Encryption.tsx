/**
 * The "Encryption" section of an encrypted conversation's details: every member's devices with their
 * fingerprints (the user's own first), to compare on both screens, and a notice when a device appears.
 */
import type { CachedChannel } from '@natter/client';
import { DeviceList, EncryptedBadge } from '@natter/react';
import type { ReactNode } from 'react';
import { useDemoApp } from './app-context.js';

/** Reads the device lists again this often while the panel is open (new devices show without a reload). */
const DEVICES_REFRESH_MS = 5_000;

export function EncryptionDetails({ channel }: { channel: CachedChannel }): ReactNode {
  const me = useDemoApp().session.user.id;
  if (!channel.encrypted) return null;
  const members = [me, ...channel.memberIds.filter((id) => id !== me)];
  return (
    <section className="encryption" aria-labelledby="encryption-heading">
      <h3 id="encryption-heading">
        Encryption <EncryptedBadge />
      </h3>
      <p className="hint">
        Messages are end-to-end encrypted on every device below. Compare a device's fingerprint with the one
        on its owner's screen; a new device reads only what is sent after it joined.
      </p>
      {members.map((id) => (
        <DeviceList
          key={id}
          userId={id}
          refreshMs={DEVICES_REFRESH_MS}
          {...(id === me ? { label: 'Your devices' } : {})}
        />
      ))}
    </section>
  );
}
