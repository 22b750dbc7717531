// Statements run on every request or turn, built once per database client: drizzle renders their SQL once and
// Postgres parses and plans it once per connection; what varies is passed as placeholder values.
import type { Db } from './client.js';

const preparedByClient = new WeakMap<Db, Map<string, unknown>>();

/** The statement prepared on `db` for `key` (its name and shape), built by `build` the first time. */
export function prepared<T>(db: Db, key: string, build: (name: string) => T): T {
  let statements = preparedByClient.get(db);
  if (!statements) {
    statements = new Map();
    preparedByClient.set(db, statements);
  }
  if (statements.has(key)) return statements.get(key) as T;
  const statement = build(`tw_${statements.size}_${key.replace(/\W+/g, '_').slice(0, 40)}`);
  statements.set(key, statement);
  return statement;
}
