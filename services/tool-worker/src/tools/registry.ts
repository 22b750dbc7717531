// The built-in tool implementations by name, bound to their dependencies.
import type { BuiltinToolType, builtinToolParameters, Db, Embedder } from '@threadwork/shared';
import type pg from 'pg';
import type { z } from 'zod';
import { fileSearch } from './file-search/file-search.js';
import { searchProducts } from './products/search-products.js';
import { showProducts } from './products/show-products.js';
import { createTable } from './sql/create-table.js';
import { dropTable } from './sql/drop-table.js';
import { getSchema } from './sql/get-schema.js';
import { listTables } from './sql/list-tables.js';
import { runSql } from './sql/run-sql.js';
import type { SqlToolDeps } from './sql/sql-deps.js';
import type { SqlSpaces } from './sql/sql-spaces.js';

export type ToolArgs<T extends BuiltinToolType> = z.output<(typeof builtinToolParameters)[T]>;

export interface ToolCallContext {
  runId: string;
  callId: string;
  ownerId: string;
  /** Aborted when the call's timeout passes. */
  signal: AbortSignal;
}

/** A tool returns a JSON-serialisable value (the output) or throws ToolError (an error output). */
export type ToolRunners = {
  [T in BuiltinToolType]: (args: ToolArgs<T>, context: ToolCallContext) => Promise<unknown>;
};

export interface ToolDeps {
  /** The SQL tools' limits; the connection and space come from `sqlSpaces` for the call's project. */
  sql: Omit<SqlToolDeps, 'pool' | 'space'>;
  sqlSpaces: SqlSpaces;
  /** Threadwork's own database, where the projects' product catalogs live. */
  catalog: pg.Pool;
  /** Threadwork's own database, where the vector stores' chunks live, and the embedder of their queries. */
  files: { db: Db; embedder: Embedder };
}

export function createToolRunners(deps: ToolDeps): ToolRunners {
  const sqlFor = async (context: ToolCallContext): Promise<SqlToolDeps> => ({
    ...deps.sql,
    ...(await deps.sqlSpaces.of(context.ownerId)),
  });
  return {
    list_tables: async (args, context) => listTables(await sqlFor(context), args),
    get_schema: async (args, context) => getSchema(await sqlFor(context), args),
    run_sql: async (args, context) => runSql(await sqlFor(context), args, context),
    create_table: async (args, context) => createTable(await sqlFor(context), args),
    drop_table: async (args, context) => dropTable(await sqlFor(context), args),
    search_products: (args, context) => searchProducts(deps.catalog, context.ownerId, args),
    show_products: (args, context) => showProducts(deps.catalog, context.ownerId, args),
    file_search: (args, context) => fileSearch(deps.files, args, context),
  };
}
