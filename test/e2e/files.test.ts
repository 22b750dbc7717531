// /v1/files through the official SDK: uploads streamed into Postgres in parts, listed, read back byte for byte and
// deleted; the size limit (413), the project quota (400) and refused forms leave nothing behind; another project's
// file answers 404.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@threadwork/testing';
import OpenAI, { toFile } from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const MiB = 1024 * 1024;
let stack: Stack;
let client: OpenAI;
let key: string;
let folder: string;
let pool: pg.Pool;

beforeAll(async () => {
  stack = await startStack(
    { FILE_MAX_BYTES: String(3 * MiB), FILES_PROJECT_QUOTA_BYTES: String(7 * MiB) },
    { runWorker: false, toolWorker: false, ingestWorker: false },
  );
  ({ client, key } = await stack.newUser('files'));
  folder = await mkdtemp(join(tmpdir(), 'threadwork-files-'));
  pool = new pg.Pool({ connectionString: stack.database.url, max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await stack?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function fileOnDisk(name: string, bytes: Buffer): Promise<string> {
  const path = join(folder, name);
  await writeFile(path, bytes);
  return path;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function storedRows(): Promise<{ files: number; parts: number }> {
  const { rows } = await pool.query<{ files: number; parts: number }>(
    'select (select count(*)::int from files) as files, (select count(*)::int from file_parts) as parts',
  );
  return rows[0] ?? { files: -1, parts: -1 };
}

describe('POST /v1/files', () => {
  it('stores an upload from a read stream in 1 MiB parts and gives the same bytes back', async () => {
    const bytes = randomBytes(2.5 * MiB);
    const path = await fileOnDisk('data.bin', bytes);
    const file = await client.files.create({ file: createReadStream(path), purpose: 'assistants' });
    expect(file).toEqual({
      id: expect.stringMatching(/^file-/),
      object: 'file',
      bytes: bytes.length,
      created_at: expect.any(Number),
      expires_at: null,
      filename: 'data.bin',
      purpose: 'assistants',
      status: 'processed',
      status_details: null,
    });
    const { rows } = await pool.query('select count(*)::int as parts from file_parts where file_id = $1', [
      file.id,
    ]);
    expect(rows[0].parts).toBe(3);
    const content = Buffer.from(await (await client.files.content(file.id)).arrayBuffer());
    expect(sha256(content)).toBe(sha256(bytes));
    expect(await client.files.retrieve(file.id)).toEqual(file);
  });

  it('keeps expires_after as the file expiry', async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from('short-lived'), 'short.txt'),
      purpose: 'user_data',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    expect(file.expires_at).toBe(file.created_at + 3600);
  });

  it('answers 413 above FILE_MAX_BYTES and keeps nothing of the upload', async () => {
    const before = await storedRows();
    const path = await fileOnDisk('big.bin', randomBytes(3 * MiB + 1));
    const error = await client.files
      .create({ file: createReadStream(path), purpose: 'assistants' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'file_too_large',
      param: 'file',
    });
    expect(await storedRows()).toEqual(before);
  });

  it("answers 400 past the project's quota, counting the project's files only", async () => {
    const { client: other } = await stack.newUser('quota');
    const path = await fileOnDisk('chunk.bin', randomBytes(3 * MiB));
    await other.files.create({ file: createReadStream(path), purpose: 'assistants' });
    await other.files.create({ file: createReadStream(path), purpose: 'assistants' });
    await expect(
      other.files.create({ file: createReadStream(path), purpose: 'assistants' }),
    ).rejects.toMatchObject({
      status: 400,
      error: { code: 'quota_exceeded', param: 'file' },
    });
    const { data } = await other.files.list();
    expect(data).toHaveLength(2);
  });

  it('refuses a missing or unknown purpose, and a form without a file, storing nothing', async () => {
    const before = await storedRows();
    const form = (fields: Record<string, string>, withFile = true) => {
      const body = new FormData();
      if (withFile) body.append('file', new Blob(['hello']), 'hello.txt');
      for (const [name, value] of Object.entries(fields)) body.append(name, value);
      return fetch(`${stack.baseURL}/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body,
      });
    };
    const missing = await form({});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { param: 'purpose' } });
    const unknown = await form({ purpose: 'assistants_output' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { param: 'purpose', code: 'invalid_value' } });
    const noFile = await form({ purpose: 'assistants' }, false);
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toMatchObject({ error: { param: 'file' } });
    const json = await fetch(`${stack.baseURL}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ file: 'hello', purpose: 'assistants' }),
    });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    expect(await storedRows()).toEqual(before);
  });

  it('keeps nothing of an upload cut off midway', async () => {
    const before = await storedRows();
    const boundary = 'threadwork-cut-off';
    const url = new URL(`${stack.baseURL}/files`);
    const request = http.request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(2 * MiB),
      },
    });
    request.on('error', () => {});
    request.write(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cut.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    );
    request.write(randomBytes(MiB + 512 * 1024));
    await waitFor(
      async () => {
        const { rows } = await pool.query(
          "select count(*)::int as writing from pg_stat_activity where state = 'idle in transaction'",
        );
        return rows[0].writing > 0;
      },
      { what: 'the upload transaction to be open' },
    );
    request.destroy();
    await waitFor(
      async () => {
        const { rows } = await pool.query(
          "select count(*)::int as writing from pg_stat_activity where state like 'idle in transaction%'",
        );
        return rows[0].writing === 0;
      },
      { what: 'the upload transaction to end' },
    );
    expect(await storedRows()).toEqual(before);
  });
});

describe('GET /v1/files', () => {
  it("lists the project's files by purpose, page by page with for await", async () => {
    const { client: lister } = await stack.newUser('lister');
    const uploaded: string[] = [];
    for (const [index, purpose] of (
      ['assistants', 'vision', 'assistants', 'assistants'] as const
    ).entries()) {
      const file = await lister.files.create({
        file: await toFile(Buffer.from(`file ${index}`), `f${index}.txt`),
        purpose,
      });
      if (purpose === 'assistants') uploaded.push(file.id);
    }
    const seen: string[] = [];
    for await (const file of lister.files.list({ purpose: 'assistants', limit: 2 })) seen.push(file.id);
    expect(seen).toEqual([...uploaded].reverse());
    const page = await lister.files.list({ limit: 2, order: 'asc' });
    expect(page.has_more).toBe(true);
    expect(page.data).toHaveLength(2);
  });
});

describe('DELETE /v1/files/:id and tenancy', () => {
  it("answers 404 for another project's file on every route, and deletes the owner's", async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from('secret'), 'secret.txt'),
      purpose: 'assistants',
    });
    const { client: stranger } = await stack.newUser('stranger');
    for (const attempt of [
      () => stranger.files.retrieve(file.id),
      () => stranger.files.content(file.id),
      () => stranger.files.delete(file.id),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ status: 404 });
    }
    expect((await stranger.files.list()).data).toEqual([]);
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    const { rows } = await pool.query('select count(*)::int as parts from file_parts where file_id = $1', [
      file.id,
    ]);
    expect(rows[0].parts).toBe(0);
  });
});
