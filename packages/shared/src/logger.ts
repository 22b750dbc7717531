// The pino logger every service uses: JSON in production, pretty in a terminal, secrets redacted.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  // Keys clients send the way other APIs take them (Azure's `api-key`, `x-api-key`), though Threadwork reads neither.
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  '*.apiKey',
  'connectionString',
  'jwtSecret',
  '*.jwtSecret',
  '*.connectionString',
  'databaseUrl',
  'redisUrl',
];

/** Query parameters that carry credentials (`?api_key=`, `?access_token=`): their values are not logged. */
const SECRET_QUERY_NAME = /^(?:api[_-]?key|key|access[_-]?token|token)$/i;

function redactUrl(url: string): string {
  return url.replace(/([?&])([^=&#]*)=([^&#]*)/g, (pair, separator: string, name: string) =>
    SECRET_QUERY_NAME.test(name) ? `${separator}${name}=[redacted]` : pair,
  );
}

function redactQuery(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query).map(([name, value]) => [name, SECRET_QUERY_NAME.test(name) ? '[redacted]' : value]),
  );
}

/** pino's request serializer, with credentials in the query string (and express's parsed query) redacted. */
function serializeRequest(req: Parameters<typeof pino.stdSerializers.req>[0]) {
  const serialized = pino.stdSerializers.req(req);
  if (typeof serialized.url === 'string') serialized.url = redactUrl(serialized.url);
  if (serialized.query && typeof serialized.query === 'object')
    serialized.query = redactQuery(serialized.query);
  return serialized;
}

export interface LoggerOptions {
  name: string;
  level?: string;
  pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests read them). */
  destination?: DestinationStream;
}

export function createLogger({
  name,
  level = 'info',
  pretty = process.stdout.isTTY === true,
  destination,
}: LoggerOptions): Logger {
  const options = {
    name,
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    // `req` and `res` are the http messages of a request log line.
    serializers: { err: pino.stdSerializers.err, req: serializeRequest, res: pino.stdSerializers.res },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } }
      : undefined,
  };
  return destination ? pino(options, destination) : pino(options);
}
