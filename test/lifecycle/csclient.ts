/**
 * The npm `csclient` (the real third-party client) in single-executor mode: it reads listApis at start
 * and routes every async command through queryAsyncJobResult polling, resolving with the finished job.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Response = Record<string, unknown>;
type Callback = (err: (Error & { code?: number }) | null, response?: Record<string, Response>) => void;
interface RawClient {
  on(event: 'ready' | 'error', fn: (err?: Error) => void): void;
  execute(cmd: string, params: Record<string, unknown>, cb: Callback): void;
}
const CloudStackClient = require('csclient') as new (options: Record<string, unknown>) => RawClient;

export interface Client {
  /** A synchronous command's `<command>response` object. */
  sync(cmd: string, params?: Record<string, unknown>): Promise<Response>;
  /** An async command: the finished job (jobstatus 1), or an APIError with the job's errorcode. */
  job(cmd: string, params?: Record<string, unknown>): Promise<{ jobstatus: number; jobresult: Response; jobinstanceid?: string }>;
}

/**
 * `maxJobWaitMs` is how long a job is polled for (every 10 ms) before csclient gives up on it: 10 s by
 * default; real guests under TCG on a busy machine need longer.
 */
export async function csclient(endpoint: string, keys: { apiKey: string; secretKey: string }, options: { maxJobWaitMs?: number } = {}): Promise<Client> {
  const pollingTime = 10;
  const c = new CloudStackClient({ apiKey: keys.apiKey, secretKey: keys.secretKey, baseUrl: `${endpoint}?`, singleExecutor: true,
    pollingTime, pollingNumber: Math.ceil((options.maxJobWaitMs ?? 10_000) / pollingTime) });
  await new Promise<void>((resolve, reject) => {
    c.on('ready', () => resolve());
    c.on('error', (e) => reject(e));
  });
  const run = (cmd: string, params: Record<string, unknown>): Promise<Record<string, Response>> =>
    new Promise((resolve, reject) => c.execute(cmd, params, (err, res) => (err ? reject(err) : resolve(res!))));
  return {
    sync: async (cmd, params = {}) => (await run(cmd, params))[`${cmd.toLowerCase()}response`] ?? {},
    job: async (cmd, params = {}) => (await run(cmd, params)) as unknown as { jobstatus: number; jobresult: Response },
  };
}

/** The APIError a failing call rejects with (code = CloudStack's errorcode). */
export async function failure(p: Promise<unknown>): Promise<Error & { code?: number }> {
  return p.then(() => { throw new Error('expected the call to fail'); }, (e: Error & { code?: number }) => e);
}
