// `npm run migrate`: creates Threadwork's database when missing and applies the migrations.
import { createLogger, ensureDatabase, loadConfig, runMigrations } from '@threadwork/shared';

const config = loadConfig();
const log = createLogger({ name: 'migrate', level: config.LOG_LEVEL });
await ensureDatabase(config.DATABASE_URL);
await runMigrations(config.DATABASE_URL);
log.info('migrations applied');
