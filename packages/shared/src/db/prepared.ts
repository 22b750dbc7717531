// Statements of the run path prepared once per database handle, with drizzle's own `prepare` and placeholders.
import type { Db } from './client.js';

const namesKept = new WeakMap<Db, boolean>();

/**
 * Whether the handle's prepared statements are named, so that Postgres parses and plans each once per connection
 * (`DATABASE_PREPARED_STATEMENTS`, on by default). A pooler in transaction mode that does not carry named statements
 * between transactions (pgbouncer before 1.21) needs them off: they are then sent unnamed, built once all the same.
 */
export function keepStatementNames(db: Db, named: boolean): void {
  namesKept.set(db, named);
}

/**
 * A statement built once per handle (`build` gets the name to pass to drizzle's `prepare`, empty when unnamed);
 * the returned function answers the handle's statement.
 */
export function preparedStatement<T>(name: string, build: (db: Db, name: string) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) {
      statement = build(db, namesKept.get(db) === false ? '' : `threadwork_${name}`);
      built.set(db, statement);
    }
    return statement;
  };
}
