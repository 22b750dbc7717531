// The OpenAI error shape and the one error class that carries it through the API.
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface ApiErrorOptions {
  type?: ErrorType;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

const defaultTypes: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  409: 'conflict_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'server_error',
  503: 'server_error',
};

export class ApiError extends Error {
  override name = 'ApiError';
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message);
    this.type = options.type ?? defaultTypes[status] ?? 'invalid_request_error';
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function notFound(kind: string, id: string): ApiError {
  return new ApiError(404, `No ${kind} found with id '${id}'.`);
}

/** Socket errors that mean the server could not be reached or dropped the connection. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** Postgres SQLSTATEs of an unavailable server: admin or crash shutdown, cannot connect now, too many connections. */
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53300']);

/** Errors pg and ioredis raise without a code when a connection is gone or cannot be had. */
const connectionFailureMessages = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Connection is closed\.?$/,
  /enableOfflineQueue options? is false/,
  /^Reached the max retries per request limit/,
];

function isConnectionFailureItself(error: object): boolean {
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof code === 'string') {
    if (unreachableCodes.has(code) || unavailableSqlStates.has(code)) return true;
    // SQLSTATE class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return typeof message === 'string' && connectionFailureMessages.some((pattern) => pattern.test(message));
}

/**
 * True when an error means Postgres or Redis could not be reached (refused, dropped, shutting down, no connection to
 * be had in time), rather than that a request was wrong: such a request may succeed when retried a little later.
 * Looks through the wrappers drivers add (drizzle's `cause`, the `errors` of an AggregateError).
 */
export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 5) return false;
  if (isConnectionFailureItself(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (isConnectionFailure(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((each) => isConnectionFailure(each, depth + 1));
}
