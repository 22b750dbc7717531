// One registration per operation: `route()` mounts the express handler, validates the body and query it declares,
// and records the operation; /openapi.json is generated from those records, so it lists what is mounted.
import { type Express, type Request, type RequestHandler, type Response, Router } from 'express';
import type { RouteParameters } from 'express-serve-static-core';
import type { z } from 'zod';
import { parseInput } from '../errors.js';

export type Method = 'get' | 'post' | 'delete';
export type Tag =
  | 'Assistants'
  | 'Threads'
  | 'Messages'
  | 'Runs'
  | 'Chat'
  | 'Gateway'
  | 'Files'
  | 'Vector stores'
  | 'Admin'
  | 'Operations';

/** One answer of an operation: JSON of a schema, server-sent events in a dialect, and/or text of a media type. */
export interface Reply {
  json?: z.ZodType;
  events?: 'assistants' | 'simple' | 'chat-completions';
  text?: 'text/plain' | 'text/html' | 'text/markdown';
  /** Bytes of any kind, streamed (a file's content). */
  binary?: 'application/octet-stream';
}

export type Replies = Partial<Record<200 | 201 | 202 | 503, Reply>>;

export interface RouteSpec {
  method: Method;
  /** The express path under the mount point of its route set (`/threads/:threadId`). */
  path: string;
  summary: string;
  tag: Tag;
  /** The JSON body, validated before the handler runs. */
  body?: z.ZodType;
  /** A request without a body is read as `{}` (modify requests, whose fields are all optional). */
  isBodyOptional?: boolean;
  /** Text bodies also accepted; they reach the handler as a string, unparsed. */
  textBody?: readonly ('text/csv' | 'text/plain')[];
  /** A multipart/form-data body, documented by this schema and streamed by the handler itself (an upload). */
  multipartBody?: z.ZodType;
  query?: z.ZodType;
  responses: Replies;
}

/** A recorded operation: its path is the full express path (`/v1/threads/:threadId`). */
export type Operation = RouteSpec;

type BodyOf<S> =
  | (S extends { body: infer B extends z.ZodType } ? z.output<B> : undefined)
  | (S extends { textBody: readonly string[] } ? string : never);

type QueryOf<S> = S extends { query: infer Q extends z.ZodType } ? z.output<Q> : undefined;

type JsonOf<R> = {
  [K in keyof R]: R[K] extends { json: infer J extends z.ZodType } ? z.output<J> : never;
}[keyof R];
type TextOf<R> = { [K in keyof R]: R[K] extends { text: string } ? string : never }[keyof R];
/** What `res.json`/`res.send` may send: the declared answers (a stream-only operation writes frames instead). */
type ResBodyOf<S extends RouteSpec> = [JsonOf<S['responses']> | TextOf<S['responses']>] extends [never]
  ? unknown
  : JsonOf<S['responses']> | TextOf<S['responses']>;

export type RouteHandler<S extends RouteSpec> = (
  req: Request<RouteParameters<S['path']>>,
  res: Response<ResBodyOf<S>>,
  input: { body: BodyOf<S>; query: QueryOf<S> },
) => Promise<void> | void;

function parseBody(spec: RouteSpec, body: unknown): unknown {
  if (!spec.body) return undefined;
  if (spec.textBody && typeof body === 'string') return body;
  return parseInput(spec.body, body ?? (spec.isBodyOptional ? {} : undefined));
}

/** A resource's routes: the express router they are mounted on and the operations they document. */
export class RouteSet {
  readonly router = Router();
  readonly operations: RouteSpec[] = [];

  route<const S extends RouteSpec>(spec: S, handler: RouteHandler<S>): void {
    this.operations.push(spec);
    const handle: RequestHandler = async (req, res) => {
      const input = {
        body: parseBody(spec, req.body) as BodyOf<S>,
        query: (spec.query ? parseInput(spec.query, req.query) : undefined) as QueryOf<S>,
      };
      // The path typed the params; express matched the same path, so the request has them.
      await handler(req as unknown as Request<RouteParameters<S['path']>>, res, input);
    };
    this.router[spec.method](spec.path, handle);
  }
}

/** Every operation mounted through it, under its full path: what the OpenAPI document is generated from. */
export class RouteCatalog {
  readonly operations: Operation[] = [];

  /** Mounts the route sets at `prefix` behind `before` (auth, limits) and records their operations. */
  mount(app: Express, prefix: string, before: RequestHandler[], ...sets: RouteSet[]): void {
    for (const set of sets) {
      for (const operation of set.operations)
        this.operations.push({ ...operation, path: prefix + operation.path });
    }
    app.use(prefix || '/', ...before, ...sets.map((set) => set.router));
  }
}
