// Built-in tool definitions: names, descriptions and zod parameters, advertised to the model as JSON Schema.
import { z } from 'zod';
import { productIdSchema } from './product-cards.js';
import type { BuiltinToolType, FunctionDefinition, ToolDefinition } from './wire.js';

const identifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and underscores, not starting with a digit');

/** Names of new objects are lowercase, so that unquoted SQL written later finds them. */
const newIdentifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and underscores, not starting with a digit');

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
    schema: identifier
      .optional()
      .describe('Schema name; when omitted, public, else the one schema that has the table'),
  }),
  run_sql: z.object({ query: z.string().min(1).max(20_000).describe('One read-only SQL statement') }),
  create_table: z.object({
    schema: identifier.optional().describe('Existing schema, default public'),
    name: newIdentifier.describe('New table name'),
    columns: z
      .array(
        z.object({
          name: newIdentifier,
          type: z.enum(columnTypes),
          length: z.number().int().min(1).max(10_485_760).optional().describe('Maximum length, varchar only'),
          not_null: z.boolean().optional(),
          unique: z.boolean().optional(),
          default: z.enum(columnDefaults).optional(),
          references: z
            .object({ table: identifier, column: identifier, schema: identifier.optional() })
            .optional()
            .describe('Foreign key to a column of an existing table'),
        }),
      )
      .min(1)
      .max(100),
    primary_key: z.array(newIdentifier).min(1).optional().describe('Column names of the primary key'),
    enable_rls: z.boolean().optional().describe('Enable row-level security on the new table'),
  }),
  drop_table: z.object({
    schema: identifier.optional().describe('Schema name, default public'),
    table: identifier,
    confirm: z.string().max(200).describe('Must equal the table name, to confirm the drop'),
    cascade: z
      .boolean()
      .optional()
      .describe('Also drop the objects that depend on the table (views, foreign keys)'),
  }),
  search_products: z.object({
    query: z.string().min(1).max(500).describe('What the user is looking for, in any language'),
    limit: z.number().int().min(1).max(50).optional().describe('Most results to return, default 10'),
    filters: z
      .object({
        category: z.string().max(200).optional(),
        min_price: z.number().min(0).optional(),
        max_price: z.number().min(0).optional(),
      })
      .optional(),
  }),
  show_products: z.object({
    product_ids: z.array(productIdSchema).min(1).max(20).describe('Product ids from search_products'),
  }),
  file_search: z.object({
    query: z.string().min(1).max(4000).describe('What to look for in the files, as a question or keywords'),
  }),
} as const satisfies Record<BuiltinToolType, z.ZodType>;

export const builtinToolDescriptions: Record<BuiltinToolType, string> = {
  list_tables:
    'List the tables and views of the database with their schema, kind, estimated rows and comment.',
  get_schema:
    'Describe a table or view: columns, types, nullability, defaults, primary and foreign keys, unique and check ' +
    'constraints, indexes and row-level security.',
  run_sql:
    'Run one read-only SQL query (SELECT, WITH, VALUES, EXPLAIN or SHOW) on the database and get the rows as JSON. ' +
    'Writes, locks, transaction control and side-effecting functions are refused. Results are capped in rows and ' +
    'size, and the output says when it was truncated: prefer LIMIT and aggregates. Use list_tables and get_schema first.',
  create_table: `Create a new table from a structured description. Column types: ${columnTypes.join(', ')}. Defaults: ${columnDefaults.join(', ')}. Refuses existing tables and system schemas.`,
  drop_table:
    'Drop a table (when the server allows it). confirm must equal the table name. Refuses system schemas, and ' +
    'tables that other objects depend on unless cascade is true.',
  search_products:
    'Search the product catalog by text (typos and any language are fine), with optional category and price ' +
    'filters. Returns products with ids to pass to show_products.',
  show_products: 'Show products to the user as cards (image, name, price, link), by product id.',
  file_search:
    'Search the files attached to the assistant and the thread (hybrid keyword and semantic search) and get the ' +
    'passages that match best. Each result has a citation marker such as 【0:1†source】: put the marker right after ' +
    'the text the passage supports, so that the answer cites the file.',
};

export const builtinToolTypes = Object.keys(builtinToolParameters) as BuiltinToolType[];

export function isBuiltinToolType(type: string): type is BuiltinToolType {
  return (builtinToolTypes as string[]).includes(type);
}

/**
 * Whether a call the model made is to a built-in tool the run declared (the tool worker runs it, or the sandbox
 * worker for code_interpreter), not a client's.
 */
export function isBuiltinCall(run: { tools: readonly { type: string }[] }, name: string): boolean {
  return (
    (isBuiltinToolType(name) || name === CODE_INTERPRETER) && run.tools.some((tool) => tool.type === name)
  );
}

/**
 * code_interpreter, as the model is offered it: a function named after the tool, taking the code. The sandbox worker
 * runs it (docs/code-interpreter.md); clients see the call as a code_interpreter call.
 */
export const CODE_INTERPRETER = 'code_interpreter';

export const codeInterpreterParameters = z.object({
  code: z.string().min(1).max(256_000).describe('Python 3 code to run'),
});

const codeInterpreterFunction: FunctionDefinition = {
  name: CODE_INTERPRETER,
  description:
    'Run Python 3 code in a sandbox with numpy, pandas and matplotlib, and get its stdout, stderr and figures. ' +
    'Variables and files in /mnt/data last between calls in this thread for a while. Files attached to the ' +
    'conversation are in /mnt/data; files written there are given back to the user. There is no network.',
  parameters: z.toJSONSchema(codeInterpreterParameters, { io: 'input' }) as Record<string, unknown>,
};

/** Whether a call the model made is to code_interpreter, and the run declared it (the sandbox worker runs it). */
export function isCodeInterpreterCall(run: { tools: readonly { type: string }[] }, name: string): boolean {
  return name === CODE_INTERPRETER && run.tools.some((tool) => tool.type === CODE_INTERPRETER);
}

/** The code of a code_interpreter call, from its arguments; arguments that are not `{"code": ...}` run as they are. */
export function codeInterpreterInput(args: string): string {
  try {
    const parsed = codeInterpreterParameters.safeParse(JSON.parse(args));
    return parsed.success ? parsed.data.code : args;
  } catch {
    return args;
  }
}

// Built once: every model call advertises them, and no reader changes them.
const builtinFunctionDefinitions = Object.fromEntries(
  builtinToolTypes.map((type): [BuiltinToolType, FunctionDefinition] => [
    type,
    {
      name: type,
      description: builtinToolDescriptions[type],
      parameters: z.toJSONSchema(builtinToolParameters[type], { io: 'input' }) as Record<string, unknown>,
    },
  ]),
) as Record<BuiltinToolType, FunctionDefinition>;

export function builtinFunctionDefinition(type: BuiltinToolType): FunctionDefinition {
  return builtinFunctionDefinitions[type];
}

/** The functions the model may call for a list of declared tools (built-ins expanded, function tools as given). */
export function modelFunctions(tools: ToolDefinition[]): FunctionDefinition[] {
  const functions: FunctionDefinition[] = [];
  for (const tool of tools) {
    if (tool.type === 'function' && 'function' in tool) functions.push(tool.function);
    else if (tool.type === CODE_INTERPRETER) functions.push(codeInterpreterFunction);
    else if (isBuiltinToolType(tool.type)) functions.push(builtinFunctionDefinition(tool.type));
  }
  return functions;
}
