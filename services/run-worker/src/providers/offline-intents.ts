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

const TABLE_NAME = String.raw`[\`"']?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)[\`"']?`;
const ROWS_PATTERNS = [
  // "show me all users in the users table", "list the rows of the orders table"
  new RegExp(
    String.raw`\b(?:show|list|get|display|see|fetch|give me)\b[^.?!]*?\b(?:in|from|of)\s+(?:the\s+)?${TABLE_NAME}\s+table\b`,
    'i',
  ),
  // "list all rows from orders", "show everything in the customers table"
  new RegExp(
    String.raw`\b(?:show|list|get|display|see|fetch)\b[^.?!]*?\b(?:rows|records|entries|everything)\s+(?:in|from|of)\s+(?:the\s+)?(?:table\s+)?${TABLE_NAME}`,
    'i',
  ),
];

/** The most rows the offline model asks for when a message wants a table's contents. */
const ROWS_LIMIT = 100;

/** A request for a table's rows, as a bounded select ("show me all users in the users table"). */
function findTableRows(text: string): string | null {
  for (const pattern of ROWS_PATTERNS) {
    const name = pattern.exec(text)?.[1];
    if (name && !NOT_TABLE_NAMES.has(name.toLowerCase())) return `SELECT * FROM ${name} LIMIT ${ROWS_LIMIT}`;
  }
  return null;
}

const NEW_TABLE_PATTERN =
  /\bcreate\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?:table\s+(?:called\s+|named\s+)?[`"']?([A-Za-z_]\w*)[`"']?|[`"']?([A-Za-z_]\w*)[`"']?\s+table)\s+(?:with|having|containing)\s+(?:the\s+)?(?:columns?\s+|fields?\s+)?([^.?!]+)/i;

interface NewColumn {
  name: string;
  type: string;
  not_null?: boolean;
  default?: string;
}

/** A column's type guessed from its name: ids are uuids, `*_at` timestamps, `is_*` booleans, amounts numeric. */
function guessColumn(name: string): NewColumn {
  if (name === 'id') return { name, type: 'uuid', not_null: true, default: 'gen_random_uuid()' };
  if (name.endsWith('_id')) return { name, type: 'uuid' };
  if (name === 'created_at' || name === 'updated_at') {
    return { name, type: 'timestamptz', not_null: true, default: 'now()' };
  }
  if (name.endsWith('_at')) return { name, type: 'timestamptz' };
  if (name.endsWith('_on') || name === 'date' || name.endsWith('_date')) return { name, type: 'date' };
  if (/^(is|has|can)_/.test(name)) return { name, type: 'boolean' };
  if (/(price|amount|total|cost|balance)$/.test(name)) return { name, type: 'numeric' };
  if (/(count|quantity|qty|age|position|rank)$/.test(name)) return { name, type: 'integer' };
  return { name, type: 'text' };
}

/** "create a comments table with id, post_id, content and created_at" → create_table's arguments. */
function findNewTable(text: string): JsonObject | null {
  const match = NEW_TABLE_PATTERN.exec(text);
  const name = (match?.[1] ?? match?.[2])?.toLowerCase();
  if (!match || !name || NOT_TABLE_NAMES.has(name) || name === 'new') return null;
  const names = (match[3] ?? '')
    .split(/\s*,\s*|\s+and\s+/i)
    .map((part) => part.trim().toLowerCase().split(/\s+/)[0] ?? '')
    .filter((part) => /^[a-z_][a-z0-9_]{0,62}$/.test(part));
  const columns = [...new Set(names)].map(guessColumn);
  if (columns.length === 0) return null;
  return {
    name,
    columns,
    ...(columns.some((column) => column.name === 'id') ? { primary_key: ['id'] } : {}),
  };
}

/** Hebrew shopping phrases ("show me", "I am looking for", "do you have") that come before the thing itself. */
const HEBREW_SEARCH_PREFIX =
  /^(?:תראה לי|תראי לי|הראה לי|אני מחפש(?:ת)?|מחפש(?:ת)?|יש לכם|יש לך|תמצא לי|תמצאי לי|חפש|חפשי|אפשר)\s+/u;
const HEBREW_SMALL_TALK = /^(?:שלום|היי|הי|תודה|תודה רבה|מה נשמע|בוקר טוב|ערב טוב|להתראות)[\s!?.]*$/u;

/** A Hebrew message is a shopper's request ("מזון לכלבים" → dog food), small talk aside. */
function findHebrewProductQuery(text: string): string | null {
  const trimmed = text.trim().replace(/[?!.]+$/u, '');
  if (!/\p{Script=Hebrew}/u.test(trimmed) || HEBREW_SMALL_TALK.test(trimmed)) return null;
  const query = trimmed.replace(HEBREW_SEARCH_PREFIX, '').trim();
  return query.length > 0 ? query.slice(0, 500) : null;
}

const SEARCH_PATTERN =
  /\b(?:show me|find(?: me)?|search(?: for)?|look(?:ing)? for|do you (?:have|sell)|recommend)\s+(?:some\s+|any\s+|a\s+|an\s+|the\s+)?([^.?!]+)/i;

/** What a shopper is looking for ("show me dog food" → "dog food"), in English or Hebrew; any mention of products counts. */
function findProductQuery(text: string): string | null {
  const thing = SEARCH_PATTERN.exec(text)?.[1]?.trim();
  if (thing) return thing.slice(0, 500);
  const hebrew = findHebrewProductQuery(text);
  if (hebrew) return hebrew;
  return /\bproducts?\b|מוצרים|מוצר/iu.test(text) ? text.trim().slice(0, 500) : null;
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

const FILE_SEARCH_PATTERNS = [
  /\b(?:search|look\s+(?:up|through|in|into)|find|check|consult|read)\b[^.?!]*\b(?:files?|documents?|docs|uploads?|knowledge\s+base|handbook)\b/i,
  /\b(?:according\s+to|based\s+on|from|in)\s+(?:the|my|our|these|those)\s+(?:files?|documents?|docs|uploads?)\b/i,
];

/** Whether the message asks to search the attached files ("search the documents: …", "according to my files, …"). */
function asksToSearchFiles(text: string): boolean {
  return FILE_SEARCH_PATTERNS.some((pattern) => pattern.test(text));
}

/**
 * The first built-in tool the message clearly asks for, in a fixed order: SQL, the files, a new table, a table's
 * columns, a table's rows, the tables, products.
 */
export function detectIntent(text: string): ToolIntent | null {
  const query = findSqlQuery(text);
  if (query) return { name: 'run_sql', arguments: { query } };
  if (asksToSearchFiles(text)) return { name: 'file_search', arguments: { query: text.trim() } };
  const newTable = findNewTable(text);
  if (newTable) return { name: 'create_table', arguments: newTable };
  const table = findTableName(text);
  if (table) return { name: 'get_schema', arguments: table };
  const rows = findTableRows(text);
  if (rows) return { name: 'run_sql', arguments: { query: rows } };
  if (asksForTables(text)) return { name: 'list_tables', arguments: {} };
  const productQuery = findProductQuery(text);
  if (productQuery) return { name: 'search_products', arguments: { query: productQuery } };
  return null;
}

const REQUEST_SEPARATOR = /\s*(?:;|\band then\b|\band also\b|\balso\b|\bthen\b|\band\b)\s*/i;

/**
 * What a message asks for when it asks for several things ("list the tables and show me dog food"): each part's
 * intent, when at least two parts have one; otherwise the whole message's single intent. SQL and a new table are
 * one request however many "and"s they contain.
 */
export function detectIntents(text: string): ToolIntent[] {
  const whole = detectIntent(text);
  if (whole?.name === 'create_table' || findSqlQuery(text)) return whole ? [whole] : [];
  const parts = text.split(REQUEST_SEPARATOR).flatMap((part) => {
    const intent = part.trim().length > 0 ? detectIntent(part) : null;
    return intent ? [intent] : [];
  });
  const distinct = parts.filter(
    (intent, index) => parts.findIndex((other) => JSON.stringify(other) === JSON.stringify(intent)) === index,
  );
  if (distinct.length >= 2) return distinct;
  return whole ? [whole] : [];
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
    case 'file_search':
      return { query: text.trim() };
    default:
      return {};
  }
}
