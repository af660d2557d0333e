import type * as http from 'node:http';
import type { MemberPort } from '../api/member-port';
import type { Logger } from '../log';
import type { Gateway } from './gateway';
import { memberIsHealthy } from './health';
import { gatewayPath } from './routes';

/** etcd 3.4.23's /version answer. */
export const VERSION_BODY = JSON.stringify({ etcdserver: '3.4.23', etcdcluster: '3.4.0' });

/** What /metrics serves (Prometheus text exposition). */
export interface MetricsEndpoint {
  contentType: string;
  scrape(): Promise<string>;
}

export interface HttpFrontDeps {
  member: MemberPort;
  logger: Logger;
  /** Absent on the --listen-metrics-urls listener (only /metrics and /health there). */
  gateway?: Gateway;
  metrics?: MetricsEndpoint;
}

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

function text(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The HTTP/1.1 side of the client port: gateway, health, version, metrics. */
export function httpFront(deps: HttpFrontDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const logger = deps.logger.child({ component: 'http' });
  return (req, res) => {
    for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const serve = async (): Promise<void> => {
      switch (pathname) {
        case '/health': {
          const healthy = await memberIsHealthy(deps.member);
          return text(res, healthy ? 200 : 503, JSON.stringify({ health: String(healthy) }));
        }
        case '/livez':
        case '/readyz':
          return text(res, 200, 'ok');
        case '/version':
          if (deps.gateway === undefined) break;
          return text(res, 200, VERSION_BODY, 'application/json');
        case '/metrics':
          if (deps.metrics === undefined) break;
          return text(res, 200, await deps.metrics.scrape(), deps.metrics.contentType);
      }
      const path = deps.gateway === undefined ? undefined : gatewayPath(pathname);
      if (path === undefined || deps.gateway === undefined) {
        req.resume();
        return text(res, 404, '404 page not found\n');
      }
      if (!deps.gateway.has(path)) {
        req.resume();
        return text(res, 404, 'Not Found\n');
      }
      if (req.method !== 'POST') {
        req.resume();
        return text(res, 405, 'Method Not Allowed\n');
      }
      deps.gateway.serve(path, req, res);
    };
    serve().catch((err: unknown) => {
      logger.error({ err, path: pathname }, 'HTTP request failed');
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
