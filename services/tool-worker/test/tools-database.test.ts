import { randomBytes } from 'node:crypto';
import { prepareToolsDatabase, readerDatabaseUrl } from '@threadwork/shared/tools-database';
import { createEmptyDatabase, databaseUrlFor, type TestDatabase } from '@threadwork/testing';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

const serverUrl = inject('databaseServerUrl');
const databases: TestDatabase[] = [];
const roles: string[] = [];
const extraDatabases: string[] = [];

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase(serverUrl);
  databases.push(database);
  return database;
}

function newRole(): string {
  const role = `tw_reader_${randomBytes(5).toString('hex')}`;
  roles.push(role);
  return role;
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function tableNames(url: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    url,
    "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
  );
  return rows.map((row) => row.name);
}

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
  await onServer(async (client) => {
    for (const name of extraDatabases) await client.query(`drop database if exists ${name} with (force)`);
    for (const role of roles) await client.query(`drop role if exists ${role}`);
  });
});

describe('prepareToolsDatabase', () => {
  it('creates a missing database, seeds the sample shop once, and sets up the read-only login', async () => {
    const name = `tw_tools_${randomBytes(5).toString('hex')}`;
    extraDatabases.push(name);
    const url = databaseUrlFor(serverUrl, name);
    const role = newRole();
    await prepareToolsDatabase(url, { readerRole: role });
    await prepareToolsDatabase(url, { readerRole: role });
    expect(await tableNames(url)).toEqual(['customer_order_totals', 'customers', 'order_items', 'orders']);
    expect(await query(url, 'select count(*)::int as count from customers')).toEqual([{ count: 5 }]);
    const reader = readerDatabaseUrl(url, role);
    expect(await query(reader, 'select current_user as user, count(*)::int as count from orders')).toEqual([
      { user: role, count: 6 },
    ]);
    expect(await query(reader, 'show default_transaction_read_only')).toEqual([
      { default_transaction_read_only: 'on' },
    ]);
    const attributes = await query(
      url,
      `select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls from pg_roles where rolname = '${role}'`,
    );
    expect(attributes).toEqual([
      {
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
      },
    ]);
  });

  it('does not seed a database that has tables, or when seed is false', async () => {
    const used = await emptyDatabase();
    await query(used.url, 'create table mine (id int)');
    await prepareToolsDatabase(used.url, { readerRole: null });
    expect(await tableNames(used.url)).toEqual(['mine']);
    const unseeded = await emptyDatabase();
    await prepareToolsDatabase(unseeded.url, { seed: false, readerRole: null });
    expect(await tableNames(unseeded.url)).toEqual([]);
  });

  it('revokes the functions a reader could still use in a read-only transaction', async () => {
    const database = await emptyDatabase();
    const role = newRole();
    await prepareToolsDatabase(database.url, { readerRole: role });
    const reader = readerDatabaseUrl(database.url, role);
    for (const call of [
      'lo_create(0)',
      'pg_advisory_lock(1)',
      "pg_notify('c', 'x')",
      'pg_cancel_backend(1)',
    ]) {
      await expect(query(reader, `select ${call}`)).rejects.toThrow(/permission denied for function/);
    }
  });

  it('survives setups of several databases racing on the same role', async () => {
    const targets = await Promise.all([emptyDatabase(), emptyDatabase(), emptyDatabase(), emptyDatabase()]);
    const role = newRole();
    const passwords = new Set(targets.map((target) => new URL(readerDatabaseUrl(target.url, role)).password));
    expect(passwords.size).toBe(1);
    await Promise.all(targets.map((target) => prepareToolsDatabase(target.url, { readerRole: role })));
    for (const target of targets) {
      expect(
        await query(readerDatabaseUrl(target.url, role), 'select count(*)::int as count from customers'),
      ).toEqual([{ count: 5 }]);
    }
  });
});
