// A fresh, migrated database per test file, cloned from a template migrated once per suite.
import { randomBytes } from 'node:crypto';
import { ensureDatabase, runMigrations } from '@threadwork/shared';
import pg from 'pg';

/** Each `vitest run` migrates its own template, so runs on one Postgres server do not disturb each other. */
export function newTemplateName(): string {
  return `tw_template_${randomBytes(5).toString('hex')}`;
}

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

/** Creates and migrates a template database (globalSetup, once per run). */
export async function prepareTemplate(serverUrl: string, name: string): Promise<void> {
  const url = databaseUrlFor(serverUrl, name);
  await ensureDatabase(url);
  await runMigrations(url);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabaseFrom(serverUrl: string, template: string): Promise<TestDatabase> {
  const name = `tw_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, (client) => client.query(`create database ${name} template ${template}`));
  return {
    name,
    url: databaseUrlFor(serverUrl, name),
    drop: () => dropDatabase(serverUrl, name),
  };
}

/** An empty (unmigrated) database, for tests of databases other than Threadwork's own. */
export async function createEmptyDatabase(serverUrl: string): Promise<TestDatabase> {
  return createDatabaseFrom(serverUrl, 'template0');
}

export function randomPrefix(): string {
  return `twtest-${randomBytes(5).toString('hex')}`;
}
