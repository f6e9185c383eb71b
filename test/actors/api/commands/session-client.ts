/**
 * A client that talks to the API as the web UI does: through `/client/api/` (with the slash), with the
 * cookies the server sets kept in a jar (an expired one removed), and the `sessionkey` parameter added
 * after login. Written from the UI's behaviour, not from the server's code.
 */
import { formPost, httpCall, type HttpResult } from '../fixtures.js';

export interface UiReply {
  status: number;
  /** The whole parsed JSON body (`{"<command>response": {...}}`). */
  json: Record<string, Record<string, unknown>>;
  raw: HttpResult;
}

export class SessionClient {
  readonly cookies = new Map<string, string>();
  sessionkey: string | undefined;

  constructor(readonly port: number) {}

  private path(params: Record<string, string>): string {
    const all = { ...params, response: 'json', ...(this.sessionkey === undefined ? {} : { sessionkey: this.sessionkey }) };
    return `/client/api/?${new URLSearchParams(all).toString()}`;
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  /** Applies Set-Cookie headers as a browser would (Max-Age=0 removes the cookie). */
  private keep(r: HttpResult): UiReply {
    for (const c of r.headers['set-cookie'] ?? []) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: r.status, json: JSON.parse(r.body) as UiReply['json'], raw: r };
  }

  /** A GET as the UI's api() sends it; the reply's cookies are kept. */
  async get(command: string, params: Record<string, string> = {}): Promise<UiReply> {
    return this.keep(await httpCall(this.port, { path: this.path({ command, ...params }), headers: this.cookieHeader() }));
  }

  /** A form POST (login, and the UI's create/update forms). */
  async post(command: string, params: Record<string, string> = {}): Promise<UiReply> {
    const form = new URLSearchParams({ command, ...params, response: 'json' }).toString();
    const query = this.sessionkey === undefined ? '' : `?${new URLSearchParams({ sessionkey: this.sessionkey }).toString()}`;
    return this.keep(await formPost(this.port, `/client/api/${query}`, form, this.cookieHeader()));
  }

  /** The body inside `<command>response`, expecting 200. */
  async ok(command: string, params: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const r = await this.get(command, params);
    if (r.status !== 200) throw new Error(`${command}: HTTP ${r.status} ${r.raw.body}`);
    return Object.values(r.json)[0]!;
  }

  async login(username: string, password: string, domain?: string): Promise<Record<string, unknown>> {
    const r = await this.post('login', { username, password, ...(domain === undefined ? {} : { domain }) });
    if (r.status !== 200) throw new Error(`login: HTTP ${r.status} ${r.raw.body}`);
    const body = r.json['loginresponse']!;
    this.sessionkey = String(body['sessionkey']);
    return body;
  }
}
