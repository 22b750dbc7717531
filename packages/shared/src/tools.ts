// Built-in tool definitions: names, descriptions and zod parameters, advertised to the model as JSON Schema.
import { z } from 'zod';
import type { BuiltinToolType, FunctionDefinition, ToolDefinition } from './wire.js';

const identifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and underscores, not starting with a digit');

export const columnTypes = [
  'text',
  'varchar',
  'integer',
  'bigint',
  'smallint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'date',
  'timestamp',
  'timestamptz',
  'uuid',
  'jsonb',
  'bytea',
] as const;

export const columnDefaults = ['now()', 'gen_random_uuid()', 'true', 'false', '0', "''", 'null'] as const;

export const builtinToolParameters = {
  list_tables: z.object({ schema: identifier.optional().describe('Only tables in this schema') }),
  get_schema: z.object({
    table: identifier.describe('Table or view name'),
    schema: identifier.optional().describe('Schema name, default public'),
  }),
  run_sql: z.object({ query: z.string().min(1).max(20_000).describe('One read-only SQL statement') }),
  create_table: z.object({
    schema: identifier.optional().describe('Schema name, default public'),
    name: identifier.describe('New table name'),
    columns: z
      .array(
        z.object({
          name: identifier,
          type: z.enum(columnTypes),
          length: z.number().int().min(1).max(10_485_760).optional().describe('For varchar'),
          not_null: z.boolean().optional(),
          unique: z.boolean().optional(),
          default: z.enum(columnDefaults).optional(),
          references: z.object({ table: identifier, column: identifier, schema: identifier.optional() }).optional(),
        }),
      )
      .min(1)
      .max(100),
    primary_key: z.array(identifier).min(1).optional(),
    enable_rls: z.boolean().optional(),
  }),
  drop_table: z.object({
    schema: identifier.optional(),
    table: identifier,
    confirm: z.string().describe('Must equal the table name'),
    cascade: z.boolean().optional(),
  }),
  search_products: z.object({
    query: z.string().min(1).max(500),
    limit: z.number().int().min(1).max(50).optional(),
    filters: z
      .object({
        category: z.string().max(200).optional(),
        min_price: z.number().min(0).optional(),
        max_price: z.number().min(0).optional(),
      })
      .optional(),
  }),
  show_products: z.object({ product_ids: z.array(z.string().min(1).max(200)).min(1).max(20) }),
} as const satisfies Record<BuiltinToolType, z.ZodType>;

export const builtinToolDescriptions: Record<BuiltinToolType, string> = {
  list_tables: 'List the tables and views of the database with their schema, kind, estimated rows and comment.',
  get_schema:
    "Describe a table: columns, types, nullability, defaults, keys, constraints, indexes and row-level security.",
  run_sql:
    'Run one read-only SQL query (SELECT, WITH, VALUES, EXPLAIN, SHOW) and get the rows. Writes are refused.',
  create_table: 'Create a new table from a structured description of its columns and keys.',
  drop_table: 'Drop a table. Requires confirm to equal the table name.',
  search_products: 'Search the product catalog by text, with optional category and price filters.',
  show_products: 'Show products to the user as cards, by product id.',
};

export const builtinToolTypes = Object.keys(builtinToolParameters) as BuiltinToolType[];

export function isBuiltinToolType(type: string): type is BuiltinToolType {
  return (builtinToolTypes as string[]).includes(type);
}

export function builtinFunctionDefinition(type: BuiltinToolType): FunctionDefinition {
  return {
    name: type,
    description: builtinToolDescriptions[type],
    parameters: z.toJSONSchema(builtinToolParameters[type], { io: 'input' }) as Record<string, unknown>,
  };
}

/** The functions the model may call for a list of declared tools (built-ins expanded, function tools as given). */
export function modelFunctions(tools: ToolDefinition[]): FunctionDefinition[] {
  const functions: FunctionDefinition[] = [];
  for (const tool of tools) {
    if (tool.type === 'function' && 'function' in tool) functions.push(tool.function);
    else if (isBuiltinToolType(tool.type)) functions.push(builtinFunctionDefinition(tool.type));
  }
  return functions;
}
