/**
 * Every error the runtime or a component raises is a CloudstackdError subclass with a stable `code`,
 * a `retryable` flag and an optional `cause`. Errors cross the wire as plain data ({code, message,
 * retryable, details, cause}) and are rebuilt as the same class on the other side (see fromWire).
 */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
  cause?: WireError;
}

export interface ErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class CloudstackdError extends Error {
  static readonly code: string = 'INTERNAL';
  static readonly retryable: boolean = false;
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const ctor = this.constructor as typeof CloudstackdError;
    this.name = ctor.name;
    this.code = ctor.code;
    this.retryable = ctor.retryable;
    this.details = options.details;
  }
}

function define(code: string, retryable: boolean, name: string): typeof CloudstackdError {
  const cls = class extends CloudstackdError {
    static override readonly code = code;
    static override readonly retryable = retryable;
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

// Runtime errors.
export class InternalError extends define('INTERNAL', false, 'InternalError') {}
export class TimeoutError extends define('TIMEOUT', true, 'TimeoutError') {}
export class DeadLetterError extends define('DEAD_LETTER', false, 'DeadLetterError') {}
export class MailboxFullError extends define('MAILBOX_FULL', true, 'MailboxFullError') {}
export class ValidationError extends define('VALIDATION', false, 'ValidationError') {}
export class UnknownMessageError extends define('UNKNOWN_MESSAGE', false, 'UnknownMessageError') {}
export class PeerDownError extends define('PEER_DOWN', true, 'PeerDownError') {}
/**
 * A PeerDownError for a message that never left this node (no connection could be made, the address
 * is unknown, nobody was subscribed): unlike other PeerDownErrors its outcome is known — nothing
 * happened — so it is always safe to send it again.
 */
export class NotSentError extends PeerDownError {
  static override readonly code: string = 'NOT_SENT';
}
export class BackPressureError extends define('BACK_PRESSURE', true, 'BackPressureError') {}
export class StoppedError extends define('STOPPED', true, 'StoppedError') {}
export class TooManyPendingError extends define('TOO_MANY_PENDING', true, 'TooManyPendingError') {}
export class CodecError extends define('CODEC', false, 'CodecError') {}
export class FrameTooLargeError extends define('FRAME_TOO_LARGE', false, 'FrameTooLargeError') {}
export class AuthError extends define('AUTH', false, 'AuthError') {}
export class ConfigError extends define('CONFIG', false, 'ConfigError') {}
export class NoInstanceError extends define('NO_INSTANCE', true, 'NoInstanceError') {}
export class IncompatibleProtocolError extends define('INCOMPATIBLE_PROTOCOL', false, 'IncompatibleProtocolError') {}
export class HandlerError extends define('HANDLER_FAILED', false, 'HandlerError') {}

// Domain errors shared by the components (the API maps these to CloudStack codes in one place).
export class NotFoundError extends define('NOT_FOUND', false, 'NotFoundError') {}
export class InvalidParameterError extends define('INVALID_PARAMETER', false, 'InvalidParameterError') {}
export class PermissionDeniedError extends define('PERMISSION_DENIED', false, 'PermissionDeniedError') {}
export class IllegalStateError extends define('ILLEGAL_STATE', false, 'IllegalStateError') {}
export class ConflictError extends define('CONFLICT', true, 'ConflictError') {}
export class InsufficientCapacityError extends define('INSUFFICIENT_CAPACITY', false, 'InsufficientCapacityError') {}
export class ResourceUnavailableError extends define('RESOURCE_UNAVAILABLE', true, 'ResourceUnavailableError') {}
export class ResourceInUseError extends define('RESOURCE_IN_USE', false, 'ResourceInUseError') {}
export class ResourceAllocationError extends define('RESOURCE_ALLOCATION', false, 'ResourceAllocationError') {}
export class LimitExceededError extends define('LIMIT_EXCEEDED', false, 'LimitExceededError') {}
export class UnsupportedError extends define('UNSUPPORTED', false, 'UnsupportedError') {}
export class InterruptedError extends define('INTERRUPTED', false, 'InterruptedError') {}
/** Conflicting network rules on one address or network (CloudStack's NetworkRuleConflictException, 537). */
export class NetworkRuleConflictError extends define('NETWORK_RULE_CONFLICT', false, 'NetworkRuleConflictError') {}
/**
 * A write or command from an owner whose lease (and so its fencing epoch) is no longer current: another
 * instance has taken the work over. The stale owner must stop acting on it; retrying cannot help.
 */
export class FencedError extends define('FENCED', false, 'FencedError') {}

const ALL: (typeof CloudstackdError)[] = [
  InternalError, TimeoutError, DeadLetterError, MailboxFullError, ValidationError, UnknownMessageError,
  PeerDownError, BackPressureError, StoppedError, TooManyPendingError, CodecError, FrameTooLargeError,
  AuthError, ConfigError, NoInstanceError, IncompatibleProtocolError, HandlerError, NotFoundError,
  InvalidParameterError, PermissionDeniedError, IllegalStateError, ConflictError, InsufficientCapacityError,
  ResourceUnavailableError, ResourceInUseError, ResourceAllocationError, LimitExceededError, UnsupportedError,
  InterruptedError, FencedError, NotSentError, NetworkRuleConflictError,
];
const byCode = new Map<string, typeof CloudstackdError>(ALL.map((c) => [c.code, c]));

const MAX_CAUSE_DEPTH = 4;

/** Turns any thrown value into its wire form. Unknown errors become INTERNAL without their stack. */
export function toWire(err: unknown, depth = 0): WireError {
  if (err instanceof CloudstackdError) {
    const w: WireError = { code: err.code, message: err.message, retryable: err.retryable };
    if (err.details !== undefined) w.details = err.details;
    if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) w.cause = toWire(err.cause, depth + 1);
    return w;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, retryable: false };
}

/** Rebuilds the error class named by a wire error's code (INTERNAL for codes this build does not know). */
export function fromWire(w: WireError): CloudstackdError {
  const cls = byCode.get(w.code) ?? InternalError;
  const opts: ErrorOptions = {};
  if (w.cause !== undefined) opts.cause = fromWire(w.cause);
  if (w.details !== undefined) opts.details = w.details;
  const e = new cls(w.message, opts);
  if (cls === InternalError && w.code !== 'INTERNAL') {
    Object.defineProperty(e, 'code', { value: w.code });
  }
  return e;
}

/** True when retrying the same request may succeed. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CloudstackdError && err.retryable;
}
