/**
 * Reads a request body up to a limit. An oversized body is not buffered: the rest is read and thrown
 * away (up to maxDrainBytes) so that the client, which is usually still sending, can then read the
 * error reply instead of meeting a reset connection.
 */
import type { IncomingMessage } from 'node:http';

export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly maxDrainBytes: number;
}

export type BodyResult =
  | { readonly kind: 'ok'; readonly text: string }
  /** drained: the whole body was read, so the reply can be written and the connection closed cleanly. */
  | { readonly kind: 'too-large'; readonly drained: boolean }
  | { readonly kind: 'aborted' };

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxBodyBytes + limits.maxDrainBytes) {
      req.pause(); // not worth reading: reply at once and cut the connection after
      resolve({ kind: 'too-large', drained: false });
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (r: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limits.maxBodyBytes + limits.maxDrainBytes) {
        req.pause();
        finish({ kind: 'too-large', drained: false });
      } else if (total <= limits.maxBodyBytes) chunks.push(chunk);
      else chunks.length = 0; // over the limit: keep reading, keep nothing
    };
    req.on('data', onData);
    req.once('end', () => {
      finish(total > limits.maxBodyBytes ? { kind: 'too-large', drained: true } : { kind: 'ok', text: Buffer.concat(chunks).toString('utf8') });
    });
    req.once('error', () => finish({ kind: 'aborted' }));
    req.once('close', () => {
      if (!req.complete) finish({ kind: 'aborted' });
    });
  });
}
