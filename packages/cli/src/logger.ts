import type { Logger } from '@natter/server-core';
import { pino } from 'pino';
import pretty from 'pino-pretty';

/**
 * The command's logger: human-readable lines on a terminal (pino-pretty, in this thread so nothing is lost
 * at exit), JSON lines otherwise for log collectors. Same level and redaction as server-core's logger.
 */
export function cliLogger(prettyLogs: boolean, level = process.env.NATTER_LOG_LEVEL ?? 'info'): Logger {
  const options = {
    name: 'natter',
    level,
    redact: ['req.headers.authorization', 'password', 'refreshToken', 'accessToken', 'token'],
  };
  if (!prettyLogs) return pino(options);
  return pino(
    options,
    pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' }),
  );
}
