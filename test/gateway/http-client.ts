import * as http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How long one unary request may take before the test fails instead of waiting on. */
const ANSWER_TIMEOUT_MS = 15_000;

/**
 * One HTTP/1.1 request on loopback; resolves with the whole answer. A server that never
 * answers fails the request after ANSWER_TIMEOUT_MS with what was asked of which port, so a
 * stuck request shows up as a named failure rather than a test run that never ends.
 */
export function request(port: number, method: string, path: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => {
      reject(new Error(`${method} ${path} to 127.0.0.1:${port}: no whole answer within ${ANSWER_TIMEOUT_MS} ms (body ${body ?? ''})`));
      req.destroy();
    }, ANSWER_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

export const post = (port: number, path: string, json: unknown): Promise<HttpAnswer> =>
  request(port, 'POST', path, typeof json === 'string' ? json : JSON.stringify(json));

/**
 * A streaming POST (watch, keepalive): sends `body`, half-closes, and yields response lines
 * as they arrive. close() drops the connection.
 */
export class LineStream {
  private buffered = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  status = 0;
  private readonly req: http.ClientRequest;

  constructor(port: number, path: string, body: string) {
    this.req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.buffered += chunk;
        let nl: number;
        while ((nl = this.buffered.indexOf('\n')) >= 0) {
          const line = this.buffered.slice(0, nl).trim();
          this.buffered = this.buffered.slice(nl + 1);
          if (line.length > 0) this.lines.push(line);
        }
        this.wake();
      });
      res.on('end', () => {
        this.ended = true;
        this.wake();
      });
      res.on('error', () => undefined);
    });
    this.req.on('error', () => {
      this.ended = true;
      this.wake();
    });
    this.req.end(body);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next line as JSON, or undefined when the response ended first. Bounded by timeoutMs. */
  async next(timeoutMs = 5000): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.ended) return undefined;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a stream line');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }

  close(): void {
    this.req.destroy();
  }
}

/** Drops what differs between two servers by nature: ids, term, sizes, raft indexes. */
export function normalizeJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (['cluster_id', 'member_id', 'raft_term'].includes(key)) continue;
    out[key] = normalizeJson(item);
  }
  return out;
}
