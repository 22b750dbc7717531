// `npm start`: checks Postgres and Redis, creates and migrates Threadwork's database, and runs the services under a
// supervisor that restarts one that crashes (the tool worker prepares the tools database itself; the sandbox worker
// runs when bubblewrap is installed, with none of the others' secrets).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  closeDb,
  createDb,
  createLogger,
  ensureDatabase,
  loadConfig,
  loadSandboxConfig,
  runMigrations,
  sandboxWorkerEnvironment,
  schema,
} from '@threadwork/shared';
import { catalogImportSchema, importCatalog, readCatalogState } from '@threadwork/shared/catalog';
import { apiNodeFlags } from '../services/api/src/node-flags.js';
import { adminKeyLine } from './admin-key-line.js';
import { processSeams, stopOnSignals, supervise } from './supervisor.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const coreServices = ['api', 'run-worker', 'tool-worker', 'ingest-worker'];

function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** In development a generated admin key is kept in .threadwork/ so it survives restarts. */
function developmentAdminKey(): string {
  const file = `${root}.threadwork/dev-admin-key`;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(`${root}.threadwork`, { recursive: true });
    const key = `sk-tw-admin-${randomBytes(24).toString('base64url')}`;
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    return key;
  }
}

/** A first start gets a small pet-shop catalog, so the product tools have something to find. */
async function seedDemoCatalog(url: string): Promise<void> {
  const db = createDb({ url, poolSize: 1 });
  try {
    const imported = await readCatalogState(db, schema.DEFAULT_PROJECT_ID);
    if (imported) return;
    const demo = JSON.parse(readFileSync(`${root}scripts/demo-catalog.json`, 'utf8')) as unknown;
    await importCatalog(db, schema.DEFAULT_PROJECT_ID, catalogImportSchema.parse(demo));
  } finally {
    await closeDb(db);
  }
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const log = createLogger({ name: 'start', level: config.LOG_LEVEL, pretty: config.PRETTY_LOGS });
const hostOf = (url: string) => new URL(url).host;

if (!(await reachable(config.DATABASE_URL, 5432))) {
  fail(
    `Postgres is not reachable at ${hostOf(config.DATABASE_URL)}: start it (e.g. 'pg_ctlcluster 15 main start' or 'brew services start postgresql') or run 'docker compose up -d postgres redis', or set DATABASE_URL.`,
  );
}
const redisUrl = config.REDIS_CLUSTER_NODES[0]
  ? `redis://${config.REDIS_CLUSTER_NODES[0]}`
  : config.REDIS_URL;
if (!(await reachable(redisUrl, 6379))) {
  fail(
    `Redis is not reachable at ${hostOf(redisUrl)}: start it (e.g. 'redis-server --daemonize yes') or run 'docker compose up -d postgres redis', or set REDIS_URL (or REDIS_CLUSTER_NODES).`,
  );
}

const migrationsUrl = config.MIGRATIONS_DATABASE_URL ?? config.DATABASE_URL;
await ensureDatabase(migrationsUrl);
await runMigrations(migrationsUrl);
await seedDemoCatalog(config.DATABASE_URL);

const adminKey = config.ADMIN_API_KEY ?? developmentAdminKey();
let bwrapPath: string;
try {
  bwrapPath = loadSandboxConfig().SANDBOX_BWRAP_PATH;
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const hasBubblewrap = existsSync(bwrapPath);
const services = hasBubblewrap ? [...coreServices, 'sandbox-worker'] : coreServices;
const serviceCommand = (name: string) => ({
  args: [...(name === 'api' ? apiNodeFlags : []), '--import', 'tsx', `services/${name}/src/main.ts`],
  cwd: root,
  // The sandbox worker gets its own settings only: no database URL, no key.
  env:
    name === 'sandbox-worker'
      ? sandboxWorkerEnvironment(process.env)
      : { ...process.env, ADMIN_API_KEY: adminKey },
});
const supervisor = supervise(services, processSeams(serviceCommand, log));
stopOnSignals(supervisor);
supervisor.stopped.then((code) => process.exit(code));

const baseUrl = `http://localhost:${config.PORT}`;
process.stdout.write(
  [
    '',
    `Threadwork is starting (model: ${config.defaultModel}).`,
    `  Assistants API:  ${baseUrl}/v1   (OpenAI SDK: baseURL '${baseUrl}/v1')`,
    `  Chat API:        ${baseUrl}/api/chat`,
    `  Web chat:        ${baseUrl}/`,
    adminKeyLine(config.ADMIN_API_KEY === undefined ? adminKey : null),
    hasBubblewrap
      ? ''
      : `  code_interpreter is off: bubblewrap is not installed at ${bwrapPath} (apt-get install bubblewrap).\n`,
  ].join('\n'),
);
