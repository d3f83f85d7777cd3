#!/usr/bin/env node
/**
 * `npx natter`: the reference server as a command. Reads flags (`--port`, `--host`, `--data-dir`,
 * `--help`), then runs the server until SIGINT or SIGTERM.
 */
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { cliLogger } from './logger.js';
import { connectWorkerParts } from './multicore/hub.js';
import { nodeIpcPort } from './multicore/port.js';
import { runPrimary } from './multicore/primary.js';
import { HELP, parseCommand } from './options.js';
import { runServer } from './server.js';

const command = parseCommand(process.argv.slice(2), process.env, process.stdout.isTTY === true);
switch (command.kind) {
  case 'help':
    process.stdout.write(HELP);
    break;
  case 'version': {
    const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${version}\n`);
    break;
  }
  case 'error':
    process.stderr.write(`natter: ${command.message}\n`);
    process.exitCode = 2;
    break;
  case 'run': {
    const logger = cliLogger(command.options.prettyLogs);
    const { options } = command;
    // NATTER_WORKERS > 1: this process is the primary (store, broker relay) or one of its workers.
    const started =
      options.workers <= 1
        ? runServer(options, logger)
        : cluster.isPrimary
          ? runPrimary(options, logger)
          : connectWorkerParts(nodeIpcPort(process)).then((parts) =>
              runServer(options, logger, { index: Number(process.env.NATTER_WORKER_INDEX ?? 0), parts }),
            );
    started.catch((err: unknown) => {
      logger.fatal({ err }, 'natter failed to start');
      process.exit(1);
    });
    break;
  }
}
