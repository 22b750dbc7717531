// The built-in tool implementations by name, bound to their dependencies.
import type { BuiltinToolType, builtinToolParameters } from '@threadwork/shared';
import type pg from 'pg';
import type { z } from 'zod';
import { searchProducts } from './products/search-products.js';
import { showProducts } from './products/show-products.js';
import { createTable } from './sql/create-table.js';
import { dropTable } from './sql/drop-table.js';
import { getSchema } from './sql/get-schema.js';
import { listTables } from './sql/list-tables.js';
import { runSql } from './sql/run-sql.js';
import type { SqlToolDeps } from './sql/sql-deps.js';

export type ToolArgs<T extends BuiltinToolType> = z.output<(typeof builtinToolParameters)[T]>;

export interface ToolCallContext {
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
  sql: SqlToolDeps;
  /** Threadwork's own database, where the product catalog lives. */
  catalog: pg.Pool;
}

export function createToolRunners(deps: ToolDeps): ToolRunners {
  return {
    list_tables: (args) => listTables(deps.sql, args),
    get_schema: (args) => getSchema(deps.sql, args),
    run_sql: (args, context) => runSql(deps.sql, args, context),
    create_table: (args) => createTable(deps.sql, args),
    drop_table: (args) => dropTable(deps.sql, args),
    search_products: (args) => searchProducts(deps.catalog, args),
    show_products: (args) => showProducts(deps.catalog, args),
  };
}
