// The run_sql guard: parses a query with the real Postgres parser and admits exactly one read-only statement.
import { parse } from 'libpg-query';

export type GuardVerdict =
  | {
      allowed: true;
      kind: 'select' | 'explain' | 'show';
      /** The statement alone: without a terminating semicolon or what surrounds it (comments, blanks). */
      statement: string;
    }
  | { allowed: false; reason: string };

const READ_ONLY_RULE = 'run_sql runs one read-only statement (SELECT, WITH, VALUES, EXPLAIN or SHOW)';

const topLevelKinds: Record<string, 'select' | 'explain' | 'show'> = {
  SelectStmt: 'select',
  ExplainStmt: 'explain',
  VariableShowStmt: 'show',
};

const statementNames: Record<string, string> = {
  VariableSetStmt: 'SET',
  TransactionStmt: 'transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT)',
  CreateTableAsStmt: 'CREATE TABLE AS',
  DoStmt: 'DO',
  VacuumStmt: 'VACUUM or ANALYZE',
  ExplainStmt: 'EXPLAIN',
  DeclareCursorStmt: 'DECLARE CURSOR',
};

/**
 * Functions with side effects or a way out of the sandbox. The database refuses these to the read-only role as well;
 * refusing them here gives the model a clear reason instead of a permission error.
 */
const refusedFunctions = new Set([
  'nextval',
  'setval',
  'set_config',
  'pg_notify',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_stat_file',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
  'loread',
  'lowrite',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'ts_stat',
  'ts_rewrite',
]);

const refusedFunctionPrefixes = [
  'lo_',
  'pg_advisory_',
  'pg_try_advisory_',
  'pg_read_',
  'pg_ls_',
  'pg_file_',
  'pg_logical_',
  'pg_replication_',
  'pg_create_',
  'pg_drop_replication_slot',
  'pg_copy_',
  'pg_stat_reset',
  'pg_backup_',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_wal_replay_',
  'binary_upgrade_',
  'dblink',
];

function statementName(node: string): string {
  return (
    statementNames[node] ??
    node
      .replace(/Stmt$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toUpperCase()
  );
}

function functionName(funcCall: unknown): string {
  const parts = (funcCall as { funcname?: Array<{ String?: { sval?: string } }> }).funcname ?? [];
  return parts.map((part) => part.String?.sval ?? '').join('.');
}

function isRefusedFunction(qualifiedName: string): boolean {
  const name = (qualifiedName.split('.').pop() ?? '').toLowerCase();
  return refusedFunctions.has(name) || refusedFunctionPrefixes.some((prefix) => name.startsWith(prefix));
}

/** Why one node of the parse tree makes the query unsafe, or null. */
function nodeViolation(key: string, value: unknown): string | null {
  if (key.endsWith('Stmt') && key !== 'SelectStmt') {
    return `${READ_ONLY_RULE}; ${statementName(key)} inside the query (for example in a WITH clause) is not allowed.`;
  }
  if (key === 'intoClause') return 'SELECT INTO creates a table and is not allowed; run_sql only reads.';
  if (key === 'lockingClause')
    return 'Row locks (FOR UPDATE, FOR SHARE and the like) are not allowed; run_sql only reads.';
  if (key === 'FuncCall') {
    const name = functionName(value);
    if (isRefusedFunction(name))
      return `The function ${name}() has side effects or reaches outside the database; it is not allowed in run_sql.`;
  }
  return null;
}

/** Walks the whole parse tree (iteratively, so deep nesting cannot overflow the stack). */
function findViolation(tree: unknown): string | null {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      const violation = nodeViolation(key, value);
      if (violation) return violation;
      stack.push(value);
    }
  }
  return null;
}

function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `The query does not parse: ${message}.`;
}

/** The statement's own text; the parser gives its place in UTF-8 bytes, and a length of 0 means "to the end". */
function statementText(query: string, location: number | undefined, length: number | undefined): string {
  const bytes = Buffer.from(query);
  const start = location ?? 0;
  return bytes.subarray(start, length ? start + length : bytes.length).toString();
}

/** Admits `query` when it is exactly one SELECT/WITH/VALUES, EXPLAIN (of a read) or SHOW with nothing that writes. */
export async function checkReadOnlyQuery(query: string): Promise<GuardVerdict> {
  // The parser reads a C string: it would stop at a NUL and judge only the text before it.
  if (query.includes('\u0000')) {
    return {
      allowed: false,
      reason: 'The query contains a NUL character (\\u0000), which Postgres does not accept.',
    };
  }
  let tree: Awaited<ReturnType<typeof parse>>;
  try {
    tree = await parse(query);
  } catch (error) {
    return { allowed: false, reason: parseErrorMessage(error) };
  }
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) {
    const found = statements.length === 0 ? 'no statement' : `${statements.length} statements`;
    return { allowed: false, reason: `${READ_ONLY_RULE}; the query has ${found}.` };
  }
  const [parsed] = statements;
  const statement = (parsed?.stmt ?? {}) as Record<string, unknown>;
  const [node, body] = Object.entries(statement)[0] ?? ['', null];
  const kind = topLevelKinds[node];
  if (!kind) return { allowed: false, reason: `${READ_ONLY_RULE}; ${statementName(node)} is not allowed.` };
  const violation = findViolation(body);
  if (violation) return { allowed: false, reason: violation };
  return { allowed: true, kind, statement: statementText(query, parsed?.stmt_location, parsed?.stmt_len) };
}
