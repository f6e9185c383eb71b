import { ask, defineProtocol } from '../../src/protocol.js';
import { t } from '../../src/schema.js';

/**
 * The API component's protocol. HTTP requests are its real input; over messages it only reports where
 * it listens, so an operator tool or the lab can print the endpoint of a component started elsewhere.
 */
export const ApiProtocol = defineProtocol('api', '1.0', {
  /** Where the HTTP API listens and how many commands it serves. */
  status: ask(t.object({}), t.object({
    host: t.string(),
    port: t.number({ int: true, min: 0, max: 65535 }),
    /** e.g. http://127.0.0.1:8080/client/api */
    endpoint: t.string(),
    commands: t.number({ int: true, min: 0 }),
  })),
});

export type ApiProtocolType = typeof ApiProtocol;
export const API_PATH_ACTOR = '/api';
