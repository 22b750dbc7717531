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

/**
 * Listens on `port`. Idle keep-alive connections stay open `keepAliveMs`: longer than a load balancer's idle timeout
 * (60 s is common), so the API never closes a connection that a proxy or client is about to reuse (Node's 5 s
 * default makes such a request fail with a reset). Headers must arrive within it plus a second.
 */
export function listen(app: Express, port: number, keepAliveMs: number): Promise<Server> {
  const server = serverFor(app);
  server.keepAliveTimeout = keepAliveMs;
  server.headersTimeout = keepAliveMs + 1000;
  return new Promise((resolve) => {
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
