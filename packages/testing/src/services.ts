// Where the test suite finds Postgres and Redis: DATABASE_URL / REDIS_URL, the local defaults, or testcontainers.
import net from 'node:net';

export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
}

const localDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const localRedisUrl = 'redis://127.0.0.1:6379';

function isListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export interface StartedServices extends ServiceUrls {
  stop(): Promise<void>;
}

/** Finds or starts the services once for the whole suite (vitest globalSetup). */
export async function provideServices(
  env: Record<string, string | undefined> = process.env,
): Promise<StartedServices> {
  const databaseUrl = env.DATABASE_URL ?? localDatabaseUrl;
  const redisUrl = env.REDIS_URL ?? localRedisUrl;
  const [pgUp, redisUp] = await Promise.all([isListening(databaseUrl), isListening(redisUrl)]);
  if (pgUp && redisUp) return { databaseUrl, redisUrl, stop: async () => {} };
  if (env.DATABASE_URL || env.REDIS_URL) {
    throw new Error(
      `Test services not reachable: Postgres ${pgUp ? 'up' : 'down'}, Redis ${redisUp ? 'up' : 'down'}`,
    );
  }
  return startContainers();
}

async function startContainers(): Promise<StartedServices> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [postgres, redis] = await Promise.all([
    new PostgreSqlContainer('postgres:16-alpine').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  return {
    databaseUrl: postgres.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}
