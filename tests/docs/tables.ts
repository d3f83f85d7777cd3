import {
  ANSWERS,
  CLIENT_FRAME_SCHEMAS,
  CLOSE_CODES,
  DEFAULT_LIMITS,
  DEFAULT_RESOURCE_LIMITS,
  ENTRY_SCHEMAS,
  ERRORS,
  type ErrorCode,
  type ErrorOrigin,
  EVENT_DATA_SCHEMAS,
  FRAME_RATE_ENFORCEMENT,
  LIMIT_ENFORCEMENT,
  type ProtocolLimits,
  type RateLimit,
  RESOURCE_LIMIT_ENFORCEMENT,
  ROUTES,
  type RouteSpec,
  SERVER_FRAME_SCHEMAS,
} from '@natter/protocol';

/**
 * The tables of docs/*.md that are generated from `@natter/protocol`, so the docs cannot drift from the
 * code. Each sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` in its page.
 */

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length), 3));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function errorRows(origin: ErrorOrigin): string[][] {
  return (Object.keys(ERRORS) as ErrorCode[])
    .filter((code) => ERRORS[code].origin === origin)
    .map((code) => {
      const spec: { status: number; retryable: boolean; closeCode?: number; summary: string } = ERRORS[code];
      return [
        `\`${code}\``,
        String(spec.status),
        spec.closeCode === undefined ? '—' : String(spec.closeCode),
        spec.retryable ? 'yes' : 'no',
        spec.summary,
      ];
    });
}

/** Field names of an object schema (possibly piped), `?` for optional ones, without `t`. */
function fieldsOf(schema: unknown): string {
  let current = schema as { entries?: Record<string, { type: string }>; pipe?: unknown[] };
  if (!current.entries && current.pipe) current = current.pipe[0] as typeof current;
  const entries = Object.entries(current.entries ?? {}).filter(([name]) => name !== 't');
  return entries.map(([name, s]) => `\`${name}${s.type === 'optional' ? '?' : ''}\``).join(', ');
}

/** A rate as people read it: `20/s, burst 40`, or per minute/hour when slower than one a second. */
function rateText({ perSecond, burst }: RateLimit): string {
  const per =
    perSecond >= 1
      ? `${perSecond}/s`
      : perSecond * 60 >= 1
        ? `${Math.round(perSecond * 60)}/min`
        : `${Math.round(perSecond * 3600)}/h`;
  return `${per}, burst ${burst}`;
}

/** The resource limits of docs/security.md: scalars, login windows and the rate of every frame kind. */
function resourceRows(): string[][] {
  const rows: string[][] = [];
  for (const [key, past] of Object.entries(RESOURCE_LIMIT_ENFORCEMENT)) {
    const value = DEFAULT_RESOURCE_LIMITS[key as keyof typeof RESOURCE_LIMIT_ENFORCEMENT];
    const text =
      typeof value === 'number'
        ? String(value)
        : 'maxFailures' in value
          ? `${value.maxFailures} failures / ${value.windowMs / 1000} s`
          : rateText(value);
    rows.push([`\`${key}\``, text, past]);
  }
  for (const [kind, past] of Object.entries(FRAME_RATE_ENFORCEMENT)) {
    const rate = DEFAULT_RESOURCE_LIMITS.frameRates[kind as keyof typeof FRAME_RATE_ENFORCEMENT];
    rows.push([
      `\`frameRates.${kind}\``,
      `socket ${rateText(rate.socket)}; user ${rateText(rate.user)}`,
      past,
    ]);
  }
  return rows;
}

/** Every generated table, by name. */
export function generatedTables(): Record<string, string> {
  const errorHeader = ['code', 'HTTP', 'close', 'retry', 'meaning'];
  return {
    'server-errors': table(errorHeader, errorRows('server')),
    'client-errors': table(errorHeader, errorRows('client')),
    'broker-errors': table(errorHeader, errorRows('broker')),
    'blob-errors': table(errorHeader, errorRows('blob')),
    'close-codes': table(
      ['code', 'name', 'meaning', 'client action'],
      Object.entries(CLOSE_CODES).map(([name, spec]) => [String(spec.code), name, spec.meaning, spec.action]),
    ),
    limits: table(
      ['limit', 'default', 'enforced by'],
      (Object.keys(DEFAULT_LIMITS) as (keyof ProtocolLimits)[]).map((key) => [
        `\`${key}\``,
        String(DEFAULT_LIMITS[key]),
        LIMIT_ENFORCEMENT[key],
      ]),
    ),
    'resource-limits': table(['limit', 'default', 'past it'], resourceRows()),
    'client-frames': table(
      ['`t`', 'fields', 'answer'],
      Object.entries(CLIENT_FRAME_SCHEMAS).map(([t, schema]) => [
        `\`${t}\``,
        fieldsOf(schema),
        t in ANSWERS ? `\`${ANSWERS[t as keyof typeof ANSWERS]}\` or \`error\`` : '`error` only on failure',
      ]),
    ),
    'server-frames': table(
      ['`t`', 'fields'],
      Object.entries(SERVER_FRAME_SCHEMAS).map(([t, schema]) => [`\`${t}\``, fieldsOf(schema)]),
    ),
    'entry-kinds': table(
      ['`kind`', 'fields'],
      Object.entries(ENTRY_SCHEMAS).map(([kind, schema]) => [`\`${kind}\``, fieldsOf(schema)]),
    ),
    'event-types': table(
      ['`type`', '`data` fields'],
      Object.entries(EVENT_DATA_SCHEMAS).map(([type, schema]) => [`\`${type}\``, fieldsOf(schema)]),
    ),
    routes: table(
      ['method', 'path', 'auth', 'status', 'what'],
      Object.values(ROUTES as Record<string, RouteSpec>).map((route) => [
        route.method,
        `\`${route.path}\``,
        route.auth === 'apiKey' ? `API key \`${route.scope}\`` : route.auth ? 'bearer' : '—',
        String(route.status),
        route.summary,
      ]),
    ),
  };
}

const MARKER = /<!-- generated:([a-z-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g;

/** Names of the generated tables a page holds. */
export function tablesIn(page: string): string[] {
  return [...page.matchAll(MARKER)].map((m) => m[1]!);
}

/** The page with every generated section replaced by the current table. */
export function regenerate(page: string): string {
  const tables = generatedTables();
  return page.replace(MARKER, (_whole, name: string) => {
    const body = tables[name];
    if (body === undefined) throw new Error(`unknown generated table ${name}`);
    return `<!-- generated:${name} -->\n${body}\n<!-- /generated:${name} -->`;
  });
}
