/**
 * The live progress line: one line per scenario, rewritten in place on a terminal; on a pipe (CI, logs)
 * each step is its own line, so the log still tells where a run spent its time.
 */
const tty = process.stdout.isTTY;
const started = Date.now();

export function progressFor(scenario) {
  let last = '';
  const write = (text) => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
    last = `[${elapsed}s] ${scenario}: ${text}`;
    if (tty) process.stdout.write(`\r\x1b[K${last.slice(0, (process.stdout.columns ?? 120) - 1)}`);
    else process.stdout.write(`${last}\n`);
  };
  write.done = (summary) => {
    if (tty) process.stdout.write('\r\x1b[K');
    process.stdout.write(
      `${summary ? `[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${scenario}: ${summary}` : last}\n`,
    );
  };
  return write;
}
