// One attempt to send a webhook message: a signed POST (Standard Webhooks), to a public address only, within a
// timeout. Answers what happened as a value; it never throws.
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, isPrivateAddress, parseWebhookUrl, refusePrivateHost } from '@threadwork/shared';
import { Webhook } from 'standardwebhooks';

export interface WebhookRequest {
  url: string;
  secret: string;
  /** The message id: `webhook-id`, the same on every attempt, so a receiver can drop a repeat. */
  messageId: string;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  now: Date;
}

export interface AttemptResult {
  /** The receiver's status code, or null when no answer came (refused, unreachable, timed out). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** The Standard Webhooks headers for a message sent at `now`. */
export function signedHeaders(request: Pick<WebhookRequest, 'secret' | 'messageId' | 'body' | 'now'>) {
  const signature = new Webhook(request.secret).sign(request.messageId, request.now, request.body);
  return {
    'webhook-id': request.messageId,
    'webhook-timestamp': String(Math.floor(request.now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/**
 * Resolves like the system lookup, then refuses a host with a private address: the check applies to the
 * addresses the connection uses, so a name that resolved to a public address at registration cannot be rebound.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find((entry) => isPrivateAddress(entry.address));
    if (refused || addresses.length === 0) {
      const reason = refused ? `resolves to ${refused.address}, a private address` : 'does not resolve';
      return callback(new Error(`The host '${hostname}' ${reason}.`), '', 0);
    }
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    return callback(null, first?.address ?? '', first?.family ?? 4);
  });
};

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** POSTs the message; a 2xx status is a delivery, anything else (or no answer) is a failed attempt. */
export async function sendWebhook(request: WebhookRequest): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const url = parseWebhookUrl(request.url);
    if (!request.allowPrivate && isIP(hostOf(url))) await refusePrivateHost(url);
    const statusCode = await post(url, request);
    return { statusCode, durationMs: elapsed(), error: isSuccess(statusCode) ? null : `HTTP ${statusCode}` };
  } catch (error) {
    return { statusCode: null, durationMs: elapsed(), error: describe(error) };
  }
}

export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/** Answers the status code as soon as it arrives; the receiver's body is not read. */
function post(url: URL, request: WebhookRequest): Promise<number> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(request.body),
        'user-agent': 'Threadwork-Webhooks/1',
        ...signedHeaders(request),
      },
      signal: AbortSignal.timeout(request.timeoutMs),
      ...(request.allowPrivate ? {} : { lookup: publicOnlyLookup }),
    });
    req.on('response', (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', (error) => {
      reject(error.name === 'AbortError' ? new Error(`No answer within ${request.timeoutMs} ms.`) : error);
    });
    req.end(request.body);
  });
}
