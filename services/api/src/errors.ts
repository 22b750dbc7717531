// The one exit for errors: ApiError and ZodError become OpenAI-shaped JSON bodies with the right status.

import { ApiError, isConnectionFailure, type Logger } from '@threadwork/shared';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { type core, ZodError } from 'zod';

function paramPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out.length === 0 ? String(key) : `${out}.${String(key)}`;
  }, '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function quoteList(values: readonly unknown[]): string {
  const quoted = values.map((value) => `'${String(value)}'`);
  if (quoted.length <= 1) return quoted.join('');
  if (quoted.length === 2) return quoted.join(' and ');
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
}

function isTypeMismatchAtRoot(branch: readonly core.$ZodIssue[]): boolean {
  return branch[0]?.code === 'invalid_type' && branch[0].path.length === 0;
}

/**
 * The issue to report for a union: the branch whose type matched (its own first issue, at its full path), an
 * unknown discriminator as an invalid value, or, when no branch's type matched, one type error naming them all.
 */
export function settleUnion(issue: core.$ZodIssue): core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const options = (issue as { options?: unknown[] }).options;
  if (issue.errors.length === 0 && options) {
    return {
      code: 'invalid_value',
      values: options as core.util.Primitive[],
      path: issue.path,
      message: issue.message,
    };
  }
  const inner = issue.errors.find((branch) => branch.length > 0 && !isTypeMismatchAtRoot(branch))?.[0];
  if (inner) return settleUnion({ ...inner, path: [...issue.path, ...inner.path] });
  const expected = issue.errors.flatMap((branch) =>
    branch[0]?.code === 'invalid_type' ? [branch[0].expected] : [],
  );
  if (expected.length === 0) return issue;
  return {
    code: 'invalid_type',
    expected: expected.join(' or ') as 'string',
    path: issue.path,
    message: issue.message,
  };
}

/** The number a bounds issue is about; query strings arrive as text and are coerced before the check. */
function numberOf(issue: core.$ZodIssue, value: unknown): number | null {
  if (issue.code !== 'too_big' && issue.code !== 'too_small') return null;
  if (issue.origin !== 'number' && issue.origin !== 'int') return null;
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

/** Turns the first zod issue into OpenAI's wording, code and param. */
export function zodToApiError(error: ZodError, input: unknown): ApiError {
  const issue = settleUnion(error.issues[0] as core.$ZodIssue);
  const path = issue.path;
  const param = paramPath(path);
  const value = valueAt(input, path);
  const custom = (issue as { params?: { code?: string } }).params?.code;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const full = param ? `${param}.${key}` : key;
    return new ApiError(400, `Unknown parameter: '${full}'.`, { param: full, code: 'unknown_parameter' });
  }
  if (issue.code === 'invalid_type' && value === undefined) {
    return new ApiError(400, `Missing required parameter: '${param}'.`, {
      param,
      code: 'missing_required_parameter',
    });
  }
  if (issue.code === 'invalid_type') {
    return new ApiError(
      400,
      `Invalid type for '${param}': expected ${issue.expected}, but got ${typeName(value)} instead.`,
      {
        param,
        code: 'invalid_type',
      },
    );
  }
  if (issue.code === 'invalid_value') {
    return new ApiError(
      400,
      `Invalid value: '${String(value)}'. Supported values are: ${quoteList(issue.values)}.`,
      {
        param,
        code: 'invalid_value',
      },
    );
  }
  const number = numberOf(issue, value);
  if (issue.code === 'too_big' && number !== null) {
    const kind = Number.isInteger(number) ? 'integer' : 'decimal';
    return new ApiError(
      400,
      `Invalid '${param}': ${kind === 'integer' ? 'integer' : 'number'} above maximum value. Expected a value <= ${String(issue.maximum)}, but got ${number} instead.`,
      { param, code: `${kind}_above_max_value` },
    );
  }
  if (issue.code === 'too_small' && number !== null) {
    const kind = Number.isInteger(number) ? 'integer' : 'decimal';
    return new ApiError(
      400,
      `Invalid '${param}': ${kind === 'integer' ? 'integer' : 'number'} below minimum value. Expected a value >= ${String(issue.minimum)}, but got ${number} instead.`,
      { param, code: `${kind}_below_min_value` },
    );
  }
  if (issue.code === 'too_big' && typeof value === 'string') {
    return new ApiError(
      400,
      `Invalid '${param}': string too long. Expected a string with maximum length ${String(issue.maximum)}, but got a string with length ${value.length} instead.`,
      { param, code: 'string_above_max_length' },
    );
  }
  if (issue.code === 'too_big' && Array.isArray(value)) {
    return new ApiError(
      400,
      `Invalid '${param}': array too long. Expected an array with maximum length ${String(issue.maximum)}, but got an array with length ${value.length} instead.`,
      { param, code: 'array_above_max_length' },
    );
  }
  const message = custom ? issue.message : `Invalid '${param}': ${issue.message}.`;
  return new ApiError(400, message, { param: param || null, code: custom ?? 'invalid_value' });
}

/** Parses with a zod schema; failures become 400s in OpenAI's wording. */
export function parseInput<T>(
  schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  input: unknown,
): T {
  const result = schema.safeParse(input);
  if (!result.success) throw zodToApiError(result.error, input);
  return result.data;
}

export const notFoundRoute: RequestHandler = (req) => {
  throw new ApiError(404, `Invalid URL (${req.method} ${req.path})`, { code: 'unknown_url' });
};

/** What a 503 tells a client to wait before retrying: about as long as Redis's reconnect delay, or a Postgres restart. */
const RETRY_AFTER_SECONDS = 2;

/** Postgres or Redis could not be reached: the request may succeed a little later, so 503 rather than 500. */
function dependencyUnavailable(): ApiError {
  return new ApiError(
    503,
    'The server is temporarily unable to reach a service it depends on. Please retry after a short wait.',
    { type: 'server_error', code: 'service_unavailable' },
  );
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = toApiError(error, req.body);
    if (apiError.code === 'service_unavailable')
      log.warn({ err: error, path: req.path }, 'dependency unavailable');
    else if (apiError.status >= 500) log.error({ err: error, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(apiError.status).set(apiError.headers);
    // A body left unread (refused before reading, cut off by its deadline) is not drained: the connection closes.
    if (!req.complete) res.set('connection', 'close');
    // Every 503 says when to come back, whichever code raised it.
    if (apiError.status === 503 && !res.get('retry-after'))
      res.set('retry-after', String(RETRY_AFTER_SECONDS));
    res.json(apiError.toBody());
  };
}

function toApiError(error: unknown, body: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return zodToApiError(error, body);
  if (isConnectionFailure(error)) return dependencyUnavailable();
  const status = (error as { status?: number; type?: string }).status;
  if ((error as { type?: string }).type === 'entity.parse.failed') {
    return new ApiError(400, 'We could not parse the JSON body of your request.', { code: 'invalid_json' });
  }
  if ((error as { type?: string }).type === 'entity.too.large') {
    return new ApiError(413, 'Request body too large.', { code: 'request_too_large' });
  }
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new ApiError(status, String((error as Error).message));
  return new ApiError(500, 'The server had an error while processing your request.', {
    type: 'server_error',
    code: 'server_error',
  });
}
