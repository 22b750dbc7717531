// The HTTP server the express app runs on, with requests and responses born with the app's prototypes.
import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';

/**
 * Express sets the prototype of each request and response on arrival (to `app.request`, `app.response`), and V8
 * then gives each one a hidden class of its own: about 1 KiB each, kept for as long as an SSE stream stays open.
 * Here they are born as instances of subclasses whose prototypes extend the app's, and those prototypes become the
 * app's, so the swap finds them in place and changes nothing: every request shares one hidden class, as in bare node.
 */
export function serverFor(app: Express): Server {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as Request;
  app.response = AppResponse.prototype as Response;
  return createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
}

export function listen(app: Express, port: number): Promise<Server> {
  const server = serverFor(app);
  return new Promise((resolve) => {
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
