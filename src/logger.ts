import { currentTrace } from './trace-context.js';
/** Structured, levelled logging with an injectable sink, so tests and embedders control the output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogSink = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

/** One line per record on stderr: `level msg key=value ...` (and `trace=` when the work has a trace id). */
export const stderrSink: LogSink = (level, msg, fields) => {
  const trace = currentTrace();
  const parts = Object.entries(trace === undefined ? fields : { ...fields, trace }).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  process.stderr.write(`${new Date().toISOString()} ${level} ${msg}${parts.length ? ' ' + parts.join(' ') : ''}\n`);
};

/** One JSON object per line on stderr (`--log-format json`): time, level, msg, the fields, and `trace` when the work has one. */
export const jsonSink: LogSink = (level, msg, fields) => {
  const trace = currentTrace();
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...(trace === undefined ? {} : { trace }) })}\n`);
};

export function createLogger(level: LogLevel = 'info', sink: LogSink = stderrSink, bindings: Record<string, unknown> = {}): Logger {
  const min = ORDER[level];
  const at = (l: LogLevel) => (msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[l] >= min) sink(l, msg, fields ? { ...bindings, ...fields } : bindings);
  };
  return {
    debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
    child: (b) => createLogger(level, sink, { ...bindings, ...b }),
  };
}

export const silentLogger: Logger = createLogger('silent');
