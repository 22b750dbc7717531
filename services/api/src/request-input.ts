// What a request may carry: bodies read only after authentication, within a size limit and a deadline, JSON no
// deeper than MAX_JSON_DEPTH, and text Postgres can store (no NUL character, no unpaired surrogate) in the body,
// the query and the path.
import { ApiError } from '@threadwork/shared';
import type { Request, RequestHandler } from 'express';

/**
 * Deeper JSON is refused before it is parsed: no request needs it (a tool's JSON schema is a few levels), parsing
 * megabytes of `[[[[` takes seconds, and validating or describing such a value recursively overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

export interface BodyOptions {
  /** The largest body, in bytes or as `1mb`. */
  limit: string;
  /** How long the body may take to arrive once the handler starts reading it. */
  deadlineMs: number;
  /** Media types besides JSON the routes behind it accept; such bodies reach them as a string. */
  textTypes?: readonly string[];
}

/** True when the request says it carries at least one byte of body. */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function unsupportedMediaType(req: Request, accepted: readonly string[]): ApiError {
  const type = req.get('content-type') ?? 'none';
  return new ApiError(
    415,
    `Unsupported Content-Type '${type}': send the body as ${accepted.join(' or ')} (UTF-8).`,
    { code: 'unsupported_media_type' },
  );
}

function bodyTimeout(deadlineMs: number): ApiError {
  return new ApiError(408, `The request body did not arrive within ${deadlineMs} ms.`, {
    code: 'request_timeout',
  });
}

function bodyTooLarge(limitBytes: number): ApiError {
  return new ApiError(413, `Request body too large: at most ${limitBytes} bytes are accepted.`, {
    code: 'request_too_large',
  });
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `1mb` → 1048576 (the units express's body parsers take). */
export function parseByteSize(size: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(size);
  if (!match) throw new Error(`not a size: '${size}' (expected e.g. 512kb or 1mb)`);
  return Math.floor(Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1));
}

/** The media type the body is read as, or null when the request's Content-Type is not one the routes accept. */
function acceptedType(req: Request, textTypes: readonly string[]): string | null {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1];
  if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') return null;
  if (req.is('application/json')) return 'application/json';
  return textTypes.find((type) => req.is(type)) ?? null;
}

/**
 * Reads the body as it arrives, at most `limitBytes` and until the deadline. On failure the rest is left unread
 * (the error handler closes the connection): nothing is drained for a request already refused.
 */
function readRaw(req: Request, limitBytes: number, deadlineMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null) => {
      clearTimeout(deadline);
      req.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      if (!error) return resolve(Buffer.concat(chunks, size));
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) finish(bodyTooLarge(limitBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onClose = () => finish(new ApiError(400, 'The request was aborted.', { code: 'request_aborted' }));
    const deadline = setTimeout(() => finish(bodyTimeout(deadlineMs)), deadlineMs);
    req.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}

/**
 * Reads the body as JSON (or one of `textTypes`, as a string). Mount it after authentication, so a request without
 * a valid key is refused before its body is read.
 */
export function readBody(options: BodyOptions): RequestHandler {
  const textTypes = options.textTypes ?? [];
  const accepted = ['application/json', ...textTypes];
  const limitBytes = parseByteSize(options.limit);
  return async (req, _res, next) => {
    if (req.readableEnded || req.body !== undefined) return next();
    if (!hasBody(req)) {
      if (req.headers['content-length'] === '0' && req.is('application/json')) req.body = {};
      return next();
    }
    const type = acceptedType(req, textTypes);
    if (!type) throw unsupportedMediaType(req, accepted);
    const encoding = req.get('content-encoding') ?? 'identity';
    if (encoding.toLowerCase() !== 'identity') {
      throw new ApiError(415, `Unsupported Content-Encoding '${encoding}': send the body uncompressed.`, {
        code: 'unsupported_media_type',
      });
    }
    if (Number(req.headers['content-length']) > limitBytes) throw bodyTooLarge(limitBytes);
    const raw = await readRaw(req, limitBytes, options.deadlineMs);
    req.body = decodeBody(raw, type === 'application/json');
    next();
  };
}

function decodeBody(raw: Buffer, isJson: boolean): unknown {
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  if (!isJson) {
    refuseUnstorable(text, '');
    return text;
  }
  if (text.trim().length === 0) return {};
  if (isNestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ApiError(
      400,
      `The JSON body is nested too deeply: at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted.`,
      { code: 'invalid_json' },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'We could not parse the JSON body of your request.', { code: 'invalid_json' });
  }
  refuseUnstorableIn(body, '');
  return body;
}

/** Counts brackets outside strings, one pass and no recursion, so any input is measured in linear time. */
export function isNestedDeeperThan(json: string, maxDepth: number): boolean {
  let depth = 0;
  let isInString = false;
  for (let index = 0; index < json.length; index += 1) {
    const char = json.charCodeAt(index);
    if (isInString) {
      if (char === 0x5c) index += 1;
      else if (char === 0x22) isInString = false;
    } else if (char === 0x22) isInString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
}

/** NUL, or a surrogate not part of a pair: Postgres text and jsonb refuse both. */
const UNSTORABLE = /[\0\p{Cs}]/u;

function invalidAt(param: string): string {
  return param ? `Invalid '${param}'` : 'Invalid body';
}

/** Refuses a string Postgres could not store, naming where it was found. */
function refuseUnstorable(text: string, param: string): void {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return;
  const what =
    found === '\0'
      ? 'the NUL character (\\u0000)'
      : `an unpaired UTF-16 surrogate (\\u${found.charCodeAt(0).toString(16)}); send well-formed Unicode text`;
  throw new ApiError(400, `${invalidAt(param)}: text may not contain ${what}.`, {
    param: param || null,
    code: 'invalid_value',
  });
}

function childParam(param: string, key: string | number): string {
  if (typeof key === 'number') return `${param}[${key}]`;
  return param ? `${param}.${key}` : key;
}

/** Walks a parsed body (nested at most MAX_JSON_DEPTH deep) and refuses the first string or key Postgres refuses. */
function refuseUnstorableIn(value: unknown, param: string): void {
  if (typeof value === 'string') refuseUnstorable(value, param);
  else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      refuseUnstorableIn(item, childParam(param, index));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      refuseUnstorable(key, childParam(param, key));
      refuseUnstorableIn(item, childParam(param, key));
    }
  }
}

/**
 * Ids and cursors go to Postgres as text: a path with an encoded NUL names nothing (404), and a query value Postgres
 * could not store is a 400 naming the parameter.
 */
export const refuseUnstorableUrl: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.path)) {
    throw new ApiError(404, `Invalid URL (${req.method} ${req.path})`, { code: 'unknown_url' });
  }
  refuseUnstorableIn(req.query, '');
  next();
};
