import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { ERRORS, type ErrorCode } from './errors.js';
import { ErrorBodySchema, SessionBodySchema } from './http/bodies.js';
import { pathParams, ROUTES, type RouteSpec } from './http/routes.js';
import {
  ChannelSchema,
  ChannelSummarySchema,
  MemberReceiptSchema,
  MessageSchema,
  PresenceInfoSchema,
  UserProfileSchema,
} from './schemas/model.js';
import { PROTOCOL_VERSION } from './version.js';

/** A JSON Schema object as the OpenAPI document holds it. */
type JsonSchema = Record<string, unknown>;

/** Errors every route may answer, besides those it lists. */
const COMMON_ERRORS: readonly ErrorCode[] = ['NATTER_BAD_REQUEST', 'NATTER_RATE_LIMITED', 'NATTER_INTERNAL'];

/** Shared shapes, emitted once under `components.schemas` and referenced from every route. */
const DEFINITIONS = {
  Message: MessageSchema,
  Channel: ChannelSchema,
  ChannelSummary: ChannelSummarySchema,
  UserProfile: UserProfileSchema,
  PresenceInfo: PresenceInfoSchema,
  MemberReceipt: MemberReceiptSchema,
  Session: SessionBodySchema,
  ErrorBody: ErrorBodySchema,
} satisfies Record<string, v.GenericSchema>;

function toOpenApiRefs(json: unknown): unknown {
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/'));
}

function schemaOf(schema: v.GenericSchema): JsonSchema {
  // Checks across fields (`v.check`) and transforms have no JSON Schema form; the prose covers them.
  const json = toJsonSchema(schema, {
    errorMode: 'ignore',
    target: 'draft-2020-12',
    definitions: DEFINITIONS,
  }) as JsonSchema;
  delete json.$schema;
  delete json.$defs;
  return toOpenApiRefs(json) as JsonSchema;
}

function components(): Record<string, JsonSchema> {
  const json = toJsonSchema(ErrorBodySchema, {
    errorMode: 'ignore',
    target: 'draft-2020-12',
    definitions: DEFINITIONS,
  }) as JsonSchema;
  return toOpenApiRefs(json.$defs) as Record<string, JsonSchema>;
}

function queryParameters(route: RouteSpec): JsonSchema[] {
  if (!route.query) return [];
  const json = schemaOf(route.query);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    // Arrays travel comma-separated in one parameter.
    const inline = schema.type === 'array' ? { ...schema, type: 'array' } : schema;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(schema.type === 'array' ? { style: 'form', explode: false } : {}),
      schema: inline,
    };
  });
}

function errorResponses(route: RouteSpec): Record<string, JsonSchema> {
  const codes = [
    ...COMMON_ERRORS,
    ...(route.auth === true ? (['NATTER_UNAUTHORIZED', 'NATTER_TOKEN_EXPIRED'] as const) : []),
    ...(route.auth === 'apiKey' ? (['NATTER_UNAUTHORIZED', 'NATTER_INSUFFICIENT_SCOPE'] as const) : []),
    ...(route.errors ?? []),
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: [...new Set(list)].join(', '),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  }
  return responses;
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from {@link ROUTES} and the same valibot schemas the
 * server validates with and the client parses with. Served at `GET /v1/openapi.json`.
 */
export function buildOpenApiDocument(options: { serverUrl?: string; version?: string } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [operationId, route] of Object.entries(ROUTES) as [string, RouteSpec][]) {
    const parameters = [
      ...pathParams(route.path).map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
      })),
      ...queryParameters(route),
    ];
    const success: JsonSchema = route.binary
      ? {
          description: 'The bytes (a `Range` request answers 206)',
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        }
      : route.response
        ? {
            description: 'OK',
            content: { 'application/json': { schema: schemaOf(route.response) } },
          }
        : { description: 'No content' };
    const operation: JsonSchema = {
      operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === true ? {} : { security: route.auth === 'apiKey' ? [{ serverApiKey: [] }] : [] }),
      ...(route.scope ? { 'x-natter-scope': route.scope } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.rawBody
        ? {
            requestBody: {
              required: true,
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            },
          }
        : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(route.body) } },
            },
          }
        : {}),
      responses: { [String(route.status)]: success, ...errorResponses(route) },
    };
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'natter HTTP API',
      version: options.version ?? `${PROTOCOL_VERSION}.0.0`,
      description:
        'The stateless HTTP API of a natter server. Chat itself runs over the WebSocket at /v1/ws (docs/protocol.md).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        serverApiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A server API key for app backends (`/v1/server/...`), holding the scope each operation names in `x-natter-scope`.',
        },
      },
      schemas: components(),
    },
  };
}
