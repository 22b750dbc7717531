// Where each project's SQL tools act: the deployment's tools database (the default project's space, or the project's
// own schema and roles there, prepared on first use), or the project's own tools database when it names one.
import { type Logger, schema } from '@threadwork/shared';
import {
  ProjectToolsUnavailableError,
  prepareProjectDatabase,
  prepareProjectToolsSpace,
  readerDatabaseUrl,
} from '@threadwork/shared/tools-database';
import pg from 'pg';
import { ToolError } from '../../tool-error.js';
import type { SqlSpace } from './sql-deps.js';

/** The connection DDL and catalog reads use, and the space in it. */
export interface SqlTarget {
  pool: pg.Pool;
  space: SqlSpace;
}

export interface SqlSpaces {
  of(projectId: string): Promise<SqlTarget>;
  /** Ends the pools of the projects' own databases. */
  close(): Promise<void>;
}

export interface SqlSpacesOptions {
  /** The TOOLS_DATABASE_URL connection. */
  toolsUrl: string;
  toolsPool: pg.Pool;
  /** The default project's reader login. */
  defaultReaderUrl: string;
  /** The project's own tools database (`tools_database_url`), read on every call so a change applies at once. */
  projectDatabaseUrl(projectId: string): Promise<string | null>;
  /** Connections per project's own database. */
  poolSize: number;
  log: Logger;
}

interface OwnDatabase {
  url: string;
  pool: pg.Pool;
}

const unavailable = (message: string) => new ToolError('unavailable', message);

/**
 * A failed preparation is forgotten, so the next call tries again; its error becomes one the model can read, without
 * the database's address.
 */
function remembered(
  cache: Map<string, Promise<SqlSpace>>,
  key: string,
  prepare: () => Promise<SqlSpace>,
  describe: (error: unknown) => never,
): Promise<SqlSpace> {
  let space = cache.get(key);
  if (!space) {
    space = prepare();
    cache.set(key, space);
    space.catch(() => cache.delete(key));
  }
  return space.catch(describe);
}

function rolesRefused(error: unknown): never {
  if (!(error instanceof ProjectToolsUnavailableError)) throw error;
  throw unavailable(
    "The SQL tools cannot set up this project's schema (the tools database connection may not create roles); " +
      'the server operator must check the tools database setup.',
  );
}

function ownDatabaseRefused(error: unknown): never {
  if (error instanceof ProjectToolsUnavailableError) {
    throw unavailable(
      "The project's tools database connection may not create roles, so the SQL tools cannot make their read-only " +
        "login there; the project's admin must give the connection CREATEROLE or set another tools_database_url.",
    );
  }
  throw unavailable(
    "The project's tools database (its tools_database_url) cannot be reached or refused the connection; the " +
      "project's admin must check it.",
  );
}

/**
 * The default project keeps the deployment's own space (public and every schema that is not a project's, read through
 * `defaultReaderUrl`, DDL as the TOOLS_DATABASE_URL connection). Every other project gets its own schema and roles
 * there, created on first use and remembered for the life of the process; or, when it names its own tools database,
 * that database's public schema and every other, read through a reader login of the project made there.
 */
export function createSqlSpaces(options: SqlSpacesOptions): SqlSpaces {
  const { toolsUrl, toolsPool } = options;
  const shared = new Map<string, Promise<SqlSpace>>();
  const ownPrepared = new Map<string, Promise<SqlSpace>>();
  const ownDatabases = new Map<string, OwnDatabase>();
  const defaultSpace: SqlSpace = {
    schema: 'public',
    isIsolated: false,
    readerUrl: options.defaultReaderUrl,
    ownerRole: null,
  };
  const prepareShared = async (projectId: string): Promise<SqlSpace> => {
    const space = await prepareProjectToolsSpace(toolsUrl, projectId);
    return {
      schema: space.schema,
      isIsolated: true,
      readerUrl: readerDatabaseUrl(toolsUrl, space.readerRole),
      ownerRole: space.ownerRole,
    };
  };
  const prepareOwn = async (url: string, projectId: string): Promise<SqlSpace> => {
    const readerRole = await prepareProjectDatabase(url, projectId).catch((error: unknown) => {
      // The model is told the database is unavailable; the operator reads why here.
      options.log.warn({ err: error, projectId }, "the project's own tools database could not be prepared");
      throw error;
    });
    return {
      schema: 'public',
      isIsolated: false,
      readerUrl: readerDatabaseUrl(url, readerRole),
      ownerRole: null,
    };
  };
  /** The project's own database, its pool opened once; a changed URL ends the former pool. */
  const ownDatabase = (projectId: string, url: string): OwnDatabase => {
    const known = ownDatabases.get(projectId);
    if (known?.url === url) return known;
    if (known) void known.pool.end().catch(() => {});
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      application_name: 'threadwork-tools',
    });
    pool.on('error', (error) =>
      options.log.warn({ err: error, projectId }, "idle connection to a project's tools database failed"),
    );
    const database = { url, pool };
    ownDatabases.set(projectId, database);
    return database;
  };
  return {
    async of(projectId) {
      if (projectId === schema.DEFAULT_PROJECT_ID) return { pool: toolsPool, space: defaultSpace };
      const url = await options.projectDatabaseUrl(projectId);
      if (url === null) {
        const space = await remembered(shared, projectId, () => prepareShared(projectId), rolesRefused);
        return { pool: toolsPool, space };
      }
      const { pool } = ownDatabase(projectId, url);
      const key = `${projectId}\n${url}`;
      const space = await remembered(ownPrepared, key, () => prepareOwn(url, projectId), ownDatabaseRefused);
      return { pool, space };
    },
    async close() {
      await Promise.all([...ownDatabases.values()].map((database) => database.pool.end().catch(() => {})));
      ownDatabases.clear();
    },
  };
}
