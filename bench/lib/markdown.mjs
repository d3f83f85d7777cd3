/** Renders a results object as the markdown report (bench/results/latest.md). */

const fmt = (v, digits = 1) => {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Math.round(v * 10 ** digits) / 10 ** digits);
};
const kb = (bytes) => (typeof bytes === 'number' ? `${fmt(bytes / 1024, 1)} KiB` : '–');

function table(head, rows) {
  // A cell is one line without pipes (error messages may carry stacks).
  const cell = (c) => String(c).split('\n')[0].replace(/\|/g, '\\|');
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const sections = {
  media: (s) =>
    table(
      [
        'store',
        'POST /v1/media 25 MiB (MiB/s)',
        '12 MP JPEG p50 (ms)',
        '12 MP JPEG p99 (ms)',
        '20 × 25 MiB at once (s)',
        'node RSS before (MiB)',
        'node RSS peak (MiB)',
        'growth (MiB)',
        'note',
      ],
      Object.entries(s.stores).map(([name, r]) => [
        name,
        fmt(r.throughput),
        fmt(r.jpegP50, 0),
        fmt(r.jpegP99, 0),
        fmt(r.concurrentSeconds),
        fmt(r.baseline, 0),
        fmt(r.peak, 0),
        typeof r.peak === 'number' ? fmt(r.peak - r.baseline, 0) : '–',
        r.error ?? '',
      ]),
    ),
  idle: (s) =>
    table(
      ['system', 'target', 'held', 'server procs', 'connects/s', 'RSS/conn', 'heap/conn', 'note'],
      Object.entries(s.systems).flatMap(([name, bySize]) =>
        Object.entries(bySize).map(([size, r]) => [
          name,
          fmt(Number(size)),
          fmt(r.connections),
          fmt(r.serverProcesses),
          fmt(r.connectsPerSec),
          kb(r.rssPerConnBytes),
          kb(r.heapPerConnBytes),
          r.error ?? r.shortfall ?? (r.failed ? `${r.failed} failed` : ''),
        ]),
      ),
    ),
  direct: (s) => chatTable(s, 'msg'),
  group: (s) => chatTable(s, 'delivery'),
  catchup: (s) =>
    table(
      ['system', 'messages', 'total ms', 'msgs/s', 'pages', 'connect ms', 'note'],
      Object.entries(s.systems).map(([name, r]) => [
        name,
        fmt(r.entries),
        fmt(r.totalMs),
        fmt(r.msgsPerSec),
        fmt(r.pages),
        fmt(r.connectMs),
        r.error ?? (r.recovered !== undefined ? `connection state recovery, recovered=${r.recovered}` : ''),
      ]),
    ),
  storage: (s) =>
    table(
      ['configuration', 'appends/s', 'CPU µs/append', 'appended', 'seconds', 'process CPU', 'note'],
      Object.entries(s.systems).map(([name, r]) => [
        name,
        fmt(r.appendsPerSec),
        fmt(r.cpuUsPerAppend),
        fmt(r.appended),
        fmt(r.seconds),
        fmt(r.processCpuUtil, 2),
        r.error ??
          (r.fanOutSeconds !== undefined
            ? `outbox empty ${fmt(r.fanOutSeconds, 2)} s after the last ack: ${fmt(r.fannedOutPerSec)} fanned out/s`
            : ''),
      ]),
    ) +
    (s.reads
      ? `\n\nRandom access (readHistory on random channels of 1,000):\n\n${table(
          [
            'adapter',
            'stored',
            'fill s',
            'latest 50 p50 ms',
            'latest 50 p99 ms',
            'around p50 ms',
            'around p99 ms',
            'note',
          ],
          Object.entries(s.reads).map(([name, r]) => [
            name,
            fmt(r.stored),
            fmt(r.fillSeconds),
            fmt(r.latest50P50Ms),
            fmt(r.latest50P99Ms),
            fmt(r.around50P50Ms),
            fmt(r.around50P99Ms),
            r.error ?? '',
          ]),
        )}`
      : ''),
  crossNode: (s) => {
    const rows = Object.entries(s.systems).map(([name, r]) => {
      const base = s.systems[`${r.broker} 1 node`]?.rate?.latencyMs?.p99;
      const p99 = r.rate?.latencyMs?.p99;
      const b = r.brokerCounts;
      const errors = b ? Object.entries(b.errors).map(([code, n]) => `${code} ×${n}`) : [];
      return [
        name,
        fmt(r.rate?.sendsPerSec),
        fmt(r.rate?.deliveredPerSec),
        ms(r.rate?.latencyMs?.p50),
        ms(p99),
        ms(r.rate?.latencyMs?.p999),
        ms(r.rate?.latencyMs?.max),
        r.rate?.p99BySliceMs?.map((v) => fmt(v)).join(', ') ?? '–',
        fmt(r.rate?.serverCpuUsPerMsg),
        fmt(r.rate?.serverCpuUtil, 2),
        fmt(r.rate?.loadCpuUtil, 2),
        r.busy ? `${fmt(r.busy.serverCpuUsPerMsg)} @ ${fmt(r.busy.sendsPerSec)}/s` : '–',
        ms(r.busy?.latencyMs?.p99),
        typeof p99 === 'number' && typeof base === 'number' && base > 0 ? fmt(p99 / base, 2) : '–',
        fmt(r.undelivered),
        b
          ? `${fmt(b.published)} / ${fmt(b.publishFailed)}${errors.length ? `; ${errors.join(', ')}` : ''}`
          : '–',
        r.skipped ?? r.error ?? (r.rate?.skipped ? `${r.rate.skipped} sends skipped (overloaded)` : ''),
      ];
    });
    const floor = s.floor?.length
      ? `\n\nFloor on this machine (bench/load/loopback-floor.mjs): one loopback TCP request/response between two Node processes costs ${s.floor
          .map((f) => `${fmt(f.cpuMicrosPerRoundTrip)} µs of CPU at ${fmt(f.ratePerSec)}/s`)
          .join(
            ' and ',
          )}; a cross-node message takes its nodes at least four such exchanges (PostgreSQL, the broker, the sender's ack, the receiver's frame).`
      : '';
    const t = s.timings;
    const timings = t
      ? `\n\nSeconds spent: starting the nodes ${fmt(t.startSeconds)}, connecting ${fmt(t.connectSeconds)} ` +
        `(${fmt(t.connectsPerSec)}/s), warm-up ${fmt(t.warmSeconds)}, measuring ${fmt(t.measureSeconds)}.`
      : '';
    return `${table(
      [
        'configuration',
        'offered sends/s',
        'delivered msg/s',
        'p50',
        'p99',
        'p999',
        'max',
        'p99 of each slice (ms)',
        'CPU µs/msg (all nodes)',
        'server CPU',
        'load CPU',
        'CPU µs/msg, busy',
        'p99, busy',
        'p99 ÷ 1-node p99',
        'undelivered',
        'broker publishes / failed',
        'note',
      ],
      rows,
    )}${floor}${timings}`;
  },
};

function chatTable(s, unit) {
  return table(
    [
      'system',
      `max ${unit}/s`,
      `${unit}/s per server core`,
      `CPU µs/${unit} @max`,
      'server CPU @max',
      'load CPU @max',
      'p99 @max',
      `CPU µs/${unit} @rate`,
      `${unit}/s @rate`,
      'load CPU @rate',
      'p50 @rate',
      'p99 @rate',
      'p999 @rate',
      'note',
    ],
    Object.entries(s.systems).map(([name, r]) => [
      name,
      fmt(r.max?.deliveredPerSec),
      fmt(r.max?.perCorePerSec),
      fmt(r.max?.serverCpuUsPerMsg, 2),
      fmt(r.max?.serverCpuUtil, 2),
      fmt(r.max?.loadCpuUtil, 2),
      ms(r.max?.latencyMs?.p99),
      fmt(r.rate?.serverCpuUsPerMsg, 2),
      fmt(r.rate?.deliveredPerSec),
      fmt(r.rate?.loadCpuUtil, 2),
      ms(r.rate?.latencyMs?.p50),
      ms(r.rate?.latencyMs?.p99),
      ms(r.rate?.latencyMs?.p999),
      chatNote(r),
    ]),
  );
}

/** The note of a chat row: an error, skipped sends, and whether the load saturated (so it was the limit). */
function chatNote(r) {
  if (r.error) return r.error;
  const notes = [];
  if (r.rate?.skipped) notes.push(`${r.rate.skipped} sends skipped (overloaded)`);
  const saturated = ['max', 'rate'].filter((phase) => r[phase]?.loadSaturated);
  if (saturated.length)
    notes.push(
      `load saturated @${saturated.join(', @')} (≥ 0.9 core per load process): the load was the limit`,
    );
  return notes.join('; ');
}
const ms = (v) => (typeof v === 'number' ? `${fmt(v, 2)} ms` : '–');

/** What `--pin-load` did: the cores of the server and of the load, and what it could not pin. */
function pinningLines(pinning) {
  if (!pinning) return [];
  const where = pinning.pinned
    ? `server processes on cores ${pinning.serverCpus.join(',')}, load processes on cores ${pinning.loadCpus.join(',')}`
    : 'nothing pinned';
  return ['', `Pinned load (\`--pin-load\`): ${where}.`, ...(pinning.notes ?? []).map((n) => `- ${n}`)];
}

export function renderMarkdown(results) {
  const { machine } = results;
  const out = [
    `# natter benchmark (${results.mode})`,
    '',
    `${results.generatedAt} · ${machine.cpus}× ${machine.cpuModel} · ${fmt(machine.memoryBytes / 2 ** 30)} GiB · ` +
      `node ${machine.node} · ${machine.os} · load avg at start ${machine.loadAvg.join(' ')}, at end ` +
      `${machine.loadAvgEnd?.join(' ') ?? '–'} · ${results.durationSeconds} s`,
    '',
    'Ratios from one run are the result; absolute numbers depend on the (shared, noisy) machine.',
    ...(results.incomplete ? ['', `**Incomplete run: ${results.incomplete}.**`] : []),
    ...pinningLines(results.pinning),
  ];
  for (const [key, s] of Object.entries(results.scenarios)) {
    out.push('', `## ${s.title ?? key}`, '');
    if (s.status) out.push(`**${s.status}**${s.note ? `: ${s.note}` : ''}`);
    else if (s.error) out.push(`**failed**: ${s.error.split('\n')[0]}`);
    else if (sections[key]) out.push(`Parameters: \`${JSON.stringify(s.params)}\``, '', sections[key](s));
    if (s.notes?.length) out.push('', ...s.notes.map((n) => `- ${n}`));
  }
  out.push('', '## Ratios (natter ÷ baseline, same run)');
  const baselineRows = results.ratios.filter((r) => r.scenario !== 'storage' && r.scenario !== 'crossNode');
  if (baselineRows.length)
    out.push(
      '',
      table(
        ['metric', 'natter', 'better', 'natter value', 'ws', 'Socket.IO', '÷ ws', '÷ Socket.IO'],
        baselineRows.map((r) => [
          r.label,
          r.natter,
          r.better,
          fmt(r.value, 2),
          fmt(r.ws, 2),
          fmt(r.socketio, 2),
          fmt(r.vsWs, 2),
          fmt(r.vsSocketio, 2),
        ]),
      ),
    );
  const storageRows = results.ratios.filter((r) => r.scenario === 'storage');
  if (storageRows.length) {
    out.push(
      '',
      table(
        ['metric', 'adapter', 'appends/s', 'raw limit', '÷ raw', 'raw same rows', '÷ raw same rows'],
        storageRows.map((r) => [
          r.label,
          r.natter,
          fmt(r.value),
          fmt(r.raw),
          fmt(r.vsRaw, 3),
          fmt(r.rawRows),
          fmt(r.vsRawRows, 3),
        ]),
      ),
    );
  }
  const crossNodeRows = results.ratios.filter((r) => r.scenario === 'crossNode');
  if (crossNodeRows.length) {
    out.push(
      '',
      'Cross-node (scenario 6): 3 nodes ÷ 1 node, same run, same offered load.',
      '',
      table(
        ['metric', 'system', '1 node', '3 nodes', '3 ÷ 1'],
        crossNodeRows.map((r) => [
          r.label,
          r.natter,
          fmt(r.oneNode, 2),
          fmt(r.threeNodes, 2),
          fmt(r.value, 2),
        ]),
      ),
    );
  }
  out.push('', '## Goals of issues #6, #8 and #19', '');
  out.push(
    table(
      ['goal', 'system', 'value', 'target', 'met'],
      results.goals.map((g) => [
        g.goal,
        g.system,
        fmt(g.value, 2),
        g.target,
        g.met === null ? 'n/a' : g.met ? 'yes' : '**no**',
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}
