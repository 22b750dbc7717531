// A fresh, migrated database per test file, cloned from a template migrated once per suite.
import { randomBytes } from 'node:crypto';
import { ensureDatabase, runMigrations } from '@threadwork/shared';
import pg from 'pg';

export const TEMPLATE_DATABASE = 'threadwork_test_template';

export function databaseUrlFor(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(serverUrl: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

/** Drops and recreates the template database, then migrates it (globalSetup, once). */
export async function prepareTemplate(serverUrl: string): Promise<void> {
  await onServer(serverUrl, async (client) => {
    await client.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  });
  const url = databaseUrlFor(serverUrl, TEMPLATE_DATABASE);
  await ensureDatabase(url);
  await runMigrations(url);
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(
  serverUrl: string,
  template = TEMPLATE_DATABASE,
): Promise<TestDatabase> {
  const name = `tw_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, (client) => client.query(`create database ${name} template ${template}`));
  return {
    name,
    url: databaseUrlFor(serverUrl, name),
    drop: () =>
      onServer(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(
        () => {},
      ),
  };
}

/** An empty (unmigrated) database, for tests of databases other than Threadwork's own. */
export async function createEmptyDatabase(serverUrl: string): Promise<TestDatabase> {
  return createTestDatabase(serverUrl, 'template0');
}

export function randomPrefix(): string {
  return `twtest-${randomBytes(5).toString('hex')}`;
}
