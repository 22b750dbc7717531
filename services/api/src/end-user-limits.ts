// Limits per end user beyond its request rate: SSE streams open at once (counted in Redis, shared by every API
// replica) and runs in flight (counted in Postgres). Over a limit answers 429 with Retry-After.
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { type Principal, principalOf } from './auth.js';
import type { AppDeps } from './deps.js';
import { rateLimited } from './rate-limit.js';
import { countActiveRunsOfEndUser } from './repositories/runs.js';

const RETRY_AFTER_SECONDS = 5;

/**
 * Takes a place among the end user's open streams: a sorted set of stream ids scored by when they end at the latest,
 * so the place of a stream whose API process died frees itself when the stream's lifetime is over.
 */
const TAKE_STREAM = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** The requests answered with a stream: `stream: true` bodies, the chat stream, and the run events to follow. */
function isStreamRequest(req: Request): boolean {
  if (req.method === 'GET') return req.path.endsWith('/events');
  if (req.path === '/chat/stream') return true;
  const body = req.body as { stream?: unknown } | undefined;
  return typeof body === 'object' && body !== null && body.stream === true;
}

/** Refuses an end user's stream beyond MAX_STREAMS_PER_USER; its place is given back when the response closes. */
export function limitStreams(deps: AppDeps): RequestHandler {
  const { redis, config } = deps;
  const lifetimeMs = config.SSE_MAX_LIFETIME_MS + 60_000;
  return async (req, res, next) => {
    const { endUserId, projectId } = principalOf(res);
    if (endUserId === null || !isStreamRequest(req)) return next();
    const key = `${config.QUEUE_PREFIX}:user-streams:${projectId}:${endUserId}`;
    const streamId = randomUUID();
    const now = Date.now();
    const args = [now, config.MAX_STREAMS_PER_USER, now + lifetimeMs, streamId, lifetimeMs];
    const taken = await redis.eval(TAKE_STREAM, 1, key, ...args.map(String));
    if (taken !== 1) {
      throw rateLimited(
        `Too many streams open: ${config.MAX_STREAMS_PER_USER} per end user.`,
        RETRY_AFTER_SECONDS,
      );
    }
    res.on('close', () => {
      redis.zrem(key, streamId).catch(() => undefined);
    });
    next();
  };
}

/** Refuses a new run when the end user already has MAX_ACTIVE_RUNS_PER_USER runs in flight. */
export async function refuseBeyondActiveRuns(deps: AppDeps, principal: Principal): Promise<void> {
  if (principal.endUserId === null) return;
  const max = deps.config.MAX_ACTIVE_RUNS_PER_USER;
  const active = await countActiveRunsOfEndUser(deps.db, principal.projectId, principal.endUserId);
  if (active >= max) {
    throw rateLimited(`Too many runs in flight: ${max} per end user.`, RETRY_AFTER_SECONDS);
  }
}
