import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { ApiError, closeDb, createDb, createLogger, type Db } from '@threadwork/shared';
import express from 'express';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorHandler, parseInput, zodToApiError } from './errors.js';
import { createMessageSchema, listQuerySchema, metadataSchema, toolChoiceSchema } from './schemas/common.js';

function errorFor(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error('expected a validation error');
  return zodToApiError(result.error, input).toBody().error;
}

describe('zodToApiError', () => {
  const body = z.strictObject({
    model: z.string(),
    n: z.number().int().max(8),
    order: z.enum(['asc', 'desc']),
  });

  it('words unknown, missing and mistyped parameters as OpenAI does', () => {
    expect(errorFor(body, { model: 'm', n: 1, order: 'asc', zzz: 1 })).toEqual({
      message: "Unknown parameter: 'zzz'.",
      type: 'invalid_request_error',
      param: 'zzz',
      code: 'unknown_parameter',
    });
    expect(errorFor(body, { n: 1, order: 'asc' })).toMatchObject({
      message: "Missing required parameter: 'model'.",
      param: 'model',
      code: 'missing_required_parameter',
    });
    expect(errorFor(body, { model: 5, n: 1, order: 'asc' })).toMatchObject({
      message: "Invalid type for 'model': expected string, but got an integer instead.",
      code: 'invalid_type',
    });
  });

  it('lists supported values with "and" before the last one', () => {
    expect(errorFor(body, { model: 'm', n: 1, order: 'up' }).message).toBe(
      "Invalid value: 'up'. Supported values are: 'asc' and 'desc'.",
    );
    expect(errorFor(toolChoiceSchema, 'sometimes')).toMatchObject({
      message: "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'.",
      code: 'invalid_value',
    });
  });

  it('reports bounds on numbers, also when they came as query-string text', () => {
    expect(errorFor(body, { model: 'm', n: 64, order: 'asc' })).toMatchObject({
      message: "Invalid 'n': integer above maximum value. Expected a value <= 8, but got 64 instead.",
      code: 'integer_above_max_value',
    });
    expect(errorFor(listQuerySchema, { limit: '0' })).toMatchObject({
      message: "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
      param: 'limit',
      code: 'integer_below_min_value',
    });
  });

  it('picks the union branch whose type matched, with the full path', () => {
    const message = createMessageSchema(5);
    expect(errorFor(message, { role: 'user', content: 'too long' })).toMatchObject({
      param: 'content',
      code: 'string_above_max_length',
    });
    expect(errorFor(message, { role: 'user', content: [{ type: 'text', text: 'too long' }] })).toMatchObject({
      param: 'content[0].text',
      code: 'string_above_max_length',
    });
    expect(errorFor(message, { role: 'user', content: [{ type: 'audio' }] })).toMatchObject({
      message: "Invalid value: 'audio'. Supported values are: 'text', 'image_file', and 'image_url'.",
      param: 'content[0].type',
    });
    expect(errorFor(message, { role: 'user', content: 7 })).toMatchObject({
      message: "Invalid type for 'content': expected string or array, but got an integer instead.",
      code: 'invalid_type',
    });
  });

  it('keeps the metadata messages and params', () => {
    expect(errorFor(metadataSchema, { ['k'.repeat(65)]: 'v' })).toMatchObject({
      param: `${'k'.repeat(65)}`,
      code: 'property_name_above_max_length',
    });
  });
});

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('errorHandler through the official SDK', () => {
  let server: Server;
  let attempts = 0;
  const log = createLogger({ name: 'test', level: 'silent', pretty: false });
  /** A Postgres that is not there: its queries fail as they do while the real one is down. */
  let missingDb: Db;

  beforeAll(async () => {
    missingDb = createDb({
      url: `postgres://postgres@127.0.0.1:${await closedPort()}/threadwork`,
      poolSize: 1,
    });
    const app = express();
    app.use(express.json());
    app.get('/status/:code', (req) => {
      throw new ApiError(Number(req.params.code), `failed with ${req.params.code}`);
    });
    app.post('/once', () => {
      attempts += 1;
      throw new ApiError(503, 'committed, do not retry', { headers: { 'x-should-retry': 'false' } });
    });
    app.get('/postgres-down', async () => {
      await missingDb.execute('select 1');
    });
    app.get('/crash', () => {
      throw new Error('secret internals');
    });
    app.post('/parse', (req) => {
      parseInput(z.strictObject({ a: z.string() }), req.body);
    });
    app.use(errorHandler(log));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await closeDb(missingDb);
  });

  function client(maxRetries = 0): OpenAI {
    const { port } = server.address() as AddressInfo;
    return new OpenAI({ baseURL: `http://127.0.0.1:${port}`, apiKey: 'test', maxRetries });
  }

  const classes: Array<[number, abstract new (...args: never[]) => Error, string]> = [
    [400, OpenAI.BadRequestError, 'invalid_request_error'],
    [401, OpenAI.AuthenticationError, 'invalid_request_error'],
    [403, OpenAI.PermissionDeniedError, 'permission_error'],
    [404, OpenAI.NotFoundError, 'invalid_request_error'],
    [409, OpenAI.ConflictError, 'conflict_error'],
    [422, OpenAI.UnprocessableEntityError, 'invalid_request_error'],
    [429, OpenAI.RateLimitError, 'rate_limit_error'],
    [500, OpenAI.InternalServerError, 'server_error'],
  ];

  it.each(classes)(
    'answers %i in OpenAI shape, which the SDK maps to its class',
    async (status, errorClass, type) => {
      const error = await client()
        .get(`/status/${status}`)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
      expect((error as InstanceType<typeof OpenAI.APIError>).error).toEqual({
        message: `failed with ${status}`,
        type,
        param: null,
        code: null,
      });
    },
  );

  it('sends x-should-retry: false so the SDK does not repeat committed work', async () => {
    attempts = 0;
    await expect(client(2).post('/once')).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect(attempts).toBe(1);
  });

  it('answers 503 with Retry-After, not 500, when a dependency cannot be reached', async () => {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/postgres-down`);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.json()).toEqual({
      error: {
        message:
          'The server is temporarily unable to reach a service it depends on. Please retry after a short wait.',
        type: 'server_error',
        param: null,
        code: 'service_unavailable',
      },
    });
  });

  it('gives every 503 a Retry-After, keeping the headers its error set', async () => {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/once`, { method: 'POST' });
    expect(response.status).toBe(503);
    expect(response.headers.get('x-should-retry')).toBe('false');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('hides unexpected errors behind a generic 500', async () => {
    const error = (await client()
      .get('/crash')
      .catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.error).toEqual({
      message: 'The server had an error while processing your request.',
      type: 'server_error',
      param: null,
      code: 'server_error',
    });
  });

  it('turns malformed JSON and validation failures into 400s', async () => {
    const { port } = server.address() as AddressInfo;
    const malformed = await fetch(`http://127.0.0.1:${port}/parse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      error: { code: 'invalid_json', type: 'invalid_request_error' },
    });
    await expect(client().post('/parse', { body: { a: 1 } })).rejects.toMatchObject({
      status: 400,
      param: 'a',
      code: 'invalid_type',
    });
  });
});
