/** The WebSocket transport (ws + msgpackr): what bin and embedders need to build one. */
export { WsTransport } from './ws-transport.js';
export { WS_DEFAULTS, type WsTransportOptions, type WsBackPressureOptions, type BackPressurePolicy } from './options.js';
export type { WsTlsOptions } from './tls.js';
export type { BackoffOptions } from './backoff.js';
export type { WsStats, ConnectionSummary } from './stats.js';
export { CLOSE as WS_CLOSE_CODES } from './close-codes.js';
