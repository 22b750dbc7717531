// What a user message clearly asks for, read by fixed patterns: the offline model's whole understanding of language.

type JsonObject = Record<string, unknown>;

/** A tool the message asks for, with the arguments read from it. */
export interface ToolIntent {
  name: string;
  arguments: JsonObject;
}

const SQL_START = /^(select|with|values|explain|show)\b/i;

/** A statement counts as SQL only when what follows its first keyword looks like SQL, not like English. */
function isSqlStatement(text: string): boolean {
  const keyword = SQL_START.exec(text)?.[1]?.toLowerCase();
  switch (keyword) {
    case 'select':
      return /^select\s+\S/i.test(text) && (/\bfrom\b/i.test(text) || !/\s\w+\s+\w+\s+\w+/.test(text));
    case 'with':
      return /^with\s+(recursive\s+)?\w+\s*(\([^)]*\)\s*)?as\s*((not\s+)?materialized\s*)?\(/i.test(text);
    case 'values':
      return /^values\s*\(/i.test(text);
    case 'explain':
      return /^explain\s+(\(|analyze\b|verbose\b|select\b|with\b|values\b)/i.test(text);
    case 'show':
      // `SHOW search_path`; "show tables" and "show me …" are requests, not statements.
      return (
        /^show\s+(all|[a-z_][\w.]*)\s*;?$/i.test(text) && !/^show\s+(tables|databases|columns)\b/i.test(text)
      );
    default:
      return false;
  }
}

/**
 * Mid-message, a keyword starts a statement after a colon or line break ("run this: select …"), or in upper case
 * ("Run SELECT …"), so English words such as "with" or "select" inside a sentence do not.
 */
const MID_MESSAGE_STARTS = [
  /[:\n]\s*(?=(?:select|with|values|explain|show)\b)/gi,
  /\s(?=(?:SELECT|WITH|VALUES|EXPLAIN|SHOW)\b)/g,
];

function trimStatement(text: string): string {
  return text.trim().replace(/[\s?!]+$/, '');
}

/** The SQL query a message contains: in backticks, or a statement that starts the message or a sentence of it. */
export function findSqlQuery(text: string): string | null {
  for (const match of text.matchAll(/```(?:sql)?\s*([\s\S]+?)```|`([^`]+)`/gi)) {
    const code = trimStatement(match[1] ?? match[2] ?? '');
    if (isSqlStatement(code)) return code;
  }
  const trimmed = trimStatement(text);
  if (isSqlStatement(trimmed)) return trimmed;
  for (const pattern of MID_MESSAGE_STARTS) {
    for (const match of trimmed.matchAll(pattern)) {
      const candidate = trimStatement(trimmed.slice(match.index + match[0].length));
      if (isSqlStatement(candidate)) return candidate;
    }
  }
  return null;
}

const NOT_TABLE_NAMES = new Set([
  'the',
  'a',
  'an',
  'this',
  'that',
  'my',
  'our',
  'your',
  'each',
  'every',
  'all',
  'its',
]);

const TABLE_PATTERNS = [
  /\b(?:columns?|schema|structure|fields)\s+(?:of|for|in)\s+(?:the\s+)?(?:table\s+)?[`"']?([A-Za-z_][\w.]*)/i,
  /\bdescribe\s+(?:the\s+)?(?:table\s+)?[`"']?([A-Za-z_][\w.]*)/i,
  /\b(?:does|do)\s+(?:the\s+)?(?:table\s+)?[`"']?([A-Za-z_][\w.]*)[`"']?\s+(?:table\s+)?(?:have|has|contain)\b/i,
  /[`"']?([A-Za-z_][\w.]*)[`"']?\s+table(?:'s)?\s+(?:columns|schema|structure|fields)\b/i,
  /\btable\s+[`"']?([A-Za-z_][\w.]*)/i,
];

/** The table a message asks about ("columns of orders", "describe public.orders"), split into schema and table. */
function findTableName(text: string): { table: string; schema?: string } | null {
  if (!/\b(columns?|schema|structure|fields|describe)\b/i.test(text)) return null;
  for (const pattern of TABLE_PATTERNS) {
    const name = pattern.exec(text)?.[1];
    if (!name || NOT_TABLE_NAMES.has(name.toLowerCase())) continue;
    const [first = '', second] = name.replace(/\.$/, '').split('.');
    return second ? { schema: first, table: second } : { table: first };
  }
  return null;
}

function asksForTables(text: string): boolean {
  return (
    /\b(list|show|what|which|display|see)\b[^.?!]*\btables\b/i.test(text) ||
    /\btables\b[^.?!]*\b(are there|exist|do (you|we|i) have|available)\b/i.test(text)
  );
}

const SEARCH_PATTERN =
  /\b(?:show me|find(?: me)?|search(?: for)?|look(?:ing)? for|do you (?:have|sell)|recommend)\s+(?:some\s+|any\s+|a\s+|an\s+|the\s+)?([^.?!]+)/i;

/** What a shopper is looking for ("show me dog food" → "dog food"); any mention of products counts. */
function findProductQuery(text: string): string | null {
  const thing = SEARCH_PATTERN.exec(text)?.[1]?.trim();
  if (thing) return thing.slice(0, 500);
  return /\bproducts?\b/i.test(text) ? text.trim().slice(0, 500) : null;
}

/** The message as a JSON object, when it is exactly one. */
export function parseJsonObject(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : null;
  } catch {
    return null;
  }
}

/** The first built-in tool the message clearly asks for, in a fixed order: SQL, a table's columns, tables, products. */
export function detectIntent(text: string): ToolIntent | null {
  const query = findSqlQuery(text);
  if (query) return { name: 'run_sql', arguments: { query } };
  const table = findTableName(text);
  if (table) return { name: 'get_schema', arguments: table };
  if (asksForTables(text)) return { name: 'list_tables', arguments: {} };
  const productQuery = findProductQuery(text);
  if (productQuery) return { name: 'search_products', arguments: { query: productQuery } };
  return null;
}

/** Arguments for a tool the model must call, read from the message as well as the tool allows. */
export function argumentsFor(toolName: string, text: string): JsonObject {
  switch (toolName) {
    case 'run_sql':
      return { query: findSqlQuery(text) ?? text.trim() };
    case 'get_schema':
      return findTableName(text) ?? {};
    case 'search_products':
      return { query: findProductQuery(text) ?? text.trim() };
    default:
      return {};
  }
}
