/**
 * Writes a streamed answer (pagesize=-1) with chunked transfer encoding, one piece at a time and only
 * when the socket has drained the previous one, so memory holds one piece whatever the answer's size.
 * An answer cannot be taken back once its status is sent: if a piece fails to come (the data service
 * failed mid-way) or the client stops reading for stallTimeoutMs, the connection is cut, so that the
 * client sees a broken answer and never a well-formed but incomplete one.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../src/logger.js';

export interface StreamWriteOptions {
  readonly stallTimeoutMs: number;
  readonly log?: Logger | undefined;
}

function drained(res: ServerResponse, stallTimeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (err === undefined) resolve(); else reject(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the client closed the connection'));
    const timer = setTimeout(() => done(new Error(`the client read nothing for ${stallTimeoutMs} ms`)), stallTimeoutMs);
    timer.unref();
    res.on('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Writes every piece of `stream` after the head was written; resolves when the answer ended or was cut. */
export async function writeStream(res: ServerResponse, stream: AsyncIterable<string>, o: StreamWriteOptions): Promise<void> {
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { value, done } = await it.next();
      if (done === true) break;
      if (res.destroyed) throw new Error('the client closed the connection');
      if (!res.write(value)) await drained(res, o.stallTimeoutMs);
    }
    res.end();
  } catch (err) {
    o.log?.warn('api: streamed answer cut short; the connection is closed so the client sees it incomplete', { error: (err as Error).message });
    await it.return?.().catch(() => undefined);
    res.destroy();
  }
}
