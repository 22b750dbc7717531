// The pino logger every service uses: JSON in production, pretty in a terminal, secrets redacted.
import { type Logger, pino } from 'pino';

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
}

export function createLogger({
  name,
  level = 'info',
  pretty = process.stdout.isTTY === true,
}: LoggerOptions): Logger {
  return pino({
    name,
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } }
      : undefined,
  });
}
