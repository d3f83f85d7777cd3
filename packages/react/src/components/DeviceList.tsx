import type { ReactNode } from 'react';
import { type UseDevicesOptions, useDevices } from '../devices.js';
import { useUser } from '../hooks.js';

/** Props of {@link DeviceList}. */
export interface DeviceListProps extends UseDevicesOptions {
  /** Whose devices: the signed-in user's own, or a contact's. */
  userId: string;
  /** Accessible name of the list. @default "<name>'s devices" */
  label?: string;
}

/**
 * A user's published devices with their fingerprints (six groups of five digits) to compare on both
 * screens, "(this device)" on the device the app runs on, and a notice when a device appeared since the
 * list was last read ("Bob added a device").
 */
export function DeviceList({ userId, label, ...options }: DeviceListProps): ReactNode {
  const devices = useDevices(userId, options);
  const user = useUser(userId);
  const name = user?.displayName ?? 'This user';
  return (
    <section className="natter-device-list" aria-label={label ?? `${name}'s devices`}>
      {devices.added.length > 0 ? (
        <p className="natter-device-notice" role="status">
          {name} added {devices.added.length === 1 ? 'a device' : `${devices.added.length} devices`}
        </p>
      ) : null}
      {devices.phase === 'loading' ? <p className="natter-loading">Loading devices…</p> : null}
      {devices.phase === 'error' ? <p role="alert">Could not load the devices.</p> : null}
      {devices.phase === 'ready' && devices.devices.length === 0 ? (
        <p>No devices with encryption yet.</p>
      ) : null}
      <ul className="natter-devices">
        {devices.devices.map((d) => (
          <li key={d.deviceId} className="natter-device" data-device-id={d.deviceId}>
            <span className="natter-device-name">
              Device {d.deviceId.slice(-6)}
              {d.thisDevice ? ' (this device)' : ''}
            </span>
            <span className="natter-fingerprint">{d.fingerprint}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
