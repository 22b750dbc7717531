// The pino logger every service uses: JSON in production, pretty in a terminal, secrets redacted.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  '*.apiKey',
  'connectionString',
  '*.connectionString',
  'databaseUrl',
  'redisUrl',
];

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
    serializers: { err: pino.stdSerializers.err, req: pino.stdSerializers.req, res: pino.stdSerializers.res },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } }
      : undefined,
  };
  return destination ? pino(options, destination) : pino(options);
}
