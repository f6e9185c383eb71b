import type { Schema } from './schema.js';

/**
 * A component declares its messages once. Each entry is either an ask (request and reply schemas) or
 * a tell (request schema only). The declaration gives the compile-time types used by refs and
 * handlers, and the validators applied to messages arriving from another node.
 */
export interface AskSpec<Req, Rep> {
  readonly kind: 'ask';
  readonly request: Schema<Req>;
  readonly reply: Schema<Rep>;
}

export interface TellSpec<Req> {
  readonly kind: 'tell';
  readonly request: Schema<Req>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = AskSpec<any, any> | TellSpec<any>;
export type MessageMap = Record<string, AnySpec>;

export interface Protocol<M extends MessageMap = MessageMap> {
  /** The service name other nodes look this protocol up by (e.g. "data", "compute"). */
  readonly name: string;
  /** Semantic version "major.minor"; a different major is incompatible. */
  readonly version: string;
  readonly messages: M;
}

export function ask<Req, Rep>(request: Schema<Req>, reply: Schema<Rep>): AskSpec<Req, Rep> {
  return { kind: 'ask', request, reply };
}

export function tell<Req>(request: Schema<Req>): TellSpec<Req> {
  return { kind: 'tell', request };
}

const VERSION_RE = /^\d+\.\d+$/;

export function defineProtocol<const M extends MessageMap>(name: string, version: string, messages: M): Protocol<M> {
  if (!VERSION_RE.test(version)) throw new Error(`protocol ${name}: version "${version}" must be "major.minor"`);
  return { name, version, messages };
}

export type MessagesOf<P> = P extends Protocol<infer M> ? M : never;
export type AskKeys<P> = { [K in keyof MessagesOf<P>]: MessagesOf<P>[K] extends AskSpec<unknown, unknown> ? K : never }[keyof MessagesOf<P>] & string;
export type TellKeys<P> = { [K in keyof MessagesOf<P>]: MessagesOf<P>[K] extends TellSpec<unknown> ? K : never }[keyof MessagesOf<P>] & string;
export type RequestOf<P, K extends keyof MessagesOf<P>> = MessagesOf<P>[K] extends { request: Schema<infer R> } ? R : never;
export type ReplyOf<P, K extends keyof MessagesOf<P>> = MessagesOf<P>[K] extends AskSpec<unknown, infer R> ? R : void;

/** Major version of a "major.minor" string. */
export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

/** True when a caller built against `wanted` can talk to an instance speaking `offered`. */
export function isCompatible(wanted: string, offered: string): boolean {
  return majorOf(wanted) === majorOf(offered);
}
