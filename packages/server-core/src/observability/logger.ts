import { type Logger, pino } from 'pino';

export type { Logger };

/** A pino logger with natter's defaults: JSON lines, `NATTER_LOG_LEVEL` (default `info`), secrets redacted. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'natter',
    level: options.level ?? process.env.NATTER_LOG_LEVEL ?? 'info',
    redact: ['req.headers.authorization', 'password', 'refreshToken', 'accessToken', 'token'],
  });
}

/** A logger that writes nothing, for tests and embedding apps that log elsewhere. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
