// Request ids and request logs: every response carries an x-request-id (the client's, or a new one), and every
// request but the health checks is logged once, when its response closes.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@threadwork/shared';
import type { Request, RequestHandler, Response } from 'express';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id, also sent back as x-request-id and logged as req.id. */
    id?: string;
  }
}

const REQUEST_ID_HEADER = 'x-request-id';

function newRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

/**
 * SSE streams keep their request open for minutes, thousands at a time, so an open request costs a few bytes here:
 * one listener function shared by every request (no closure and no child logger each), the start in res.locals,
 * and the request and response serialized only when the line is written.
 */
export function logRequests(log: Logger, isQuiet: (req: Request) => boolean): RequestHandler {
  function logCompletion(this: Response): void {
    const line = { req: this.req, res: this, responseTime: Date.now() - this.locals.requestStartedAt };
    if (this.statusCode < 500) log.info(line, 'request completed');
    else
      log.info({ ...line, err: new Error(`failed with status code ${this.statusCode}`) }, 'request errored');
  }
  return (req, res, next) => {
    const id = req.get(REQUEST_ID_HEADER) ?? newRequestId();
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    if (!isQuiet(req)) {
      res.locals.requestStartedAt = Date.now();
      res.on('close', logCompletion);
    }
    next();
  };
}
