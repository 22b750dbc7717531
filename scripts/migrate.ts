// `npm run migrate`: creates Threadwork's database when missing and applies the migrations.
import { createLogger, ensureDatabase, loadConfig, runMigrations } from '@threadwork/shared';

const config = loadConfig();
const log = createLogger({ name: 'migrate', level: config.LOG_LEVEL });
// A transaction pooler (pgbouncer) cannot hold the session the migration lock needs: migrate directly when told how.
const url = config.MIGRATIONS_DATABASE_URL ?? config.DATABASE_URL;
await ensureDatabase(url);
await runMigrations(url);
log.info('migrations applied');
