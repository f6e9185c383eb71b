/**
 * A small CloudStack API client for tests and benchmarks: signed GET requests (HMAC-SHA1 over the
 * sorted, Java-encoded, lower-cased parameters, signatureVersion 3 with `expires`), written from the
 * reference (section 1.3) rather than from the server's code, over keep-alive HTTP. `job()` submits an
 * async command and polls queryAsyncJobResult as clients do.
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

export type Json = Record<string, unknown>;

/** A non-200 answer: `code` is CloudStack's errorcode (= the HTTP status). */
export class CsApiError extends Error {
  constructor(readonly code: number, message: string, readonly command: string) {
    super(`${command}: ${code} ${message}`);
    this.name = 'CsApiError';
  }
}

/** queryAsyncJobResult's answer once the job has finished. */
export interface JobResult {
  jobid: string;
  jobstatus: number;
  jobresultcode: number;
  jobresult: Json;
  jobinstanceid?: string;
}

export interface CsApiOptions {
  endpoint: string;
  apiKey: string;
  secretKey: string;
  /** Sockets kept open to the server. Default 8. */
  maxSockets?: number;
  /** Pause between queryAsyncJobResult polls, ms. Default 20. */
  pollMs?: number;
  /** Longest a job is polled before giving up, ms. Default 30,000. */
  jobTimeoutMs?: number;
  /**
   * Reuse connections. Default true. A client polling a busy server every few seconds may reuse a
   * connection just as the server closes it for idleness (ECONNRESET): long runs turn this off.
   */
  keepAlive?: boolean;
}

/** Java's URLEncoder plus CloudStack's `+` → `%20` (encodeURIComponent leaves ! ' ( ) ~ alone; Java does not). */
export function javaEncode(v: string): string {
  return encodeURIComponent(v).replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sign(params: Record<string, string>, secretKey: string): string {
  const canonical = Object.keys(params).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
    .map((k) => `${k}=${javaEncode(params[k]!)}`).join('&').toLowerCase();
  return createHmac('sha1', secretKey).update(canonical).digest('base64');
}

export class CsApi {
  readonly agent: Agent;
  private readonly url: URL;

  constructor(readonly o: CsApiOptions) {
    this.url = new URL(o.endpoint);
    this.agent = new Agent({ keepAlive: o.keepAlive ?? true, maxSockets: o.maxSockets ?? 8 });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends one signed request; resolves with the HTTP status and the parsed body. */
  raw(command: string, params: Record<string, string | number | boolean> = {}): Promise<{ status: number; body: Json }> {
    const p: Record<string, string> = { command, response: 'json', apiKey: this.o.apiKey, signatureVersion: '3',
      expires: new Date(Date.now() + 300_000).toISOString().replace(/\.\d{3}Z$/, '+0000') };
    for (const [k, v] of Object.entries(params)) p[k] = String(v);
    const query = Object.entries(p).map(([k, v]) => `${encodeURIComponent(k)}=${javaEncode(v)}`).join('&');
    const path = `${this.url.pathname}?${query}&signature=${encodeURIComponent(sign(p, this.o.secretKey))}`;
    return new Promise((resolve, reject) => {
      const req = request({ host: this.url.hostname, port: this.url.port, path, method: 'GET', agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json });
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** The `<command>response` object, or CsApiError for an error answer. */
  async call<T = Json>(command: string, params: Record<string, string | number | boolean> = {}): Promise<T> {
    const { status, body } = await this.raw(command, params);
    const key = Object.keys(body)[0] ?? '';
    const inner = (body[key] ?? {}) as Json;
    if (status !== 200) throw new CsApiError(Number(inner['errorcode'] ?? status), String(inner['errortext'] ?? ''), command);
    return inner as T;
  }

  /** Every item of a list command (pages of 500), under `objectName`. */
  async listAll<T = Json>(command: string, objectName: string, params: Record<string, string | number | boolean> = {}): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const r = await this.call(command, { ...params, page, pagesize: 500 });
      const items = (r[objectName] ?? []) as T[];
      out.push(...items);
      if (items.length < 500) return out;
    }
  }

  /** Polls a job until it finishes. */
  async waitJob(jobid: string): Promise<JobResult> {
    const until = Date.now() + (this.o.jobTimeoutMs ?? 30_000);
    for (;;) {
      const r = await this.call<JobResult>('queryAsyncJobResult', { jobid });
      if (r.jobstatus !== 0) return r;
      if (Date.now() > until) throw new Error(`job ${jobid} still pending after ${this.o.jobTimeoutMs ?? 30_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.o.pollMs ?? 20));
    }
  }

  /** Submits an async command and waits for its job; `id` is the created object's id for create commands. */
  async job(command: string, params: Record<string, string | number | boolean> = {}): Promise<JobResult & { id?: string }> {
    const r = await this.call<{ jobid: string; id?: string }>(command, params);
    const done = await this.waitJob(r.jobid);
    return r.id === undefined ? done : { ...done, id: r.id };
  }
}
