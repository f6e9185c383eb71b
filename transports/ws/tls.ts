import type { ClientOptions } from 'ws';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

type Pem = string | Buffer;

/** TLS for the ws transport (wss://). Every node is both a server (it listens) and a client (it dials). */
export interface WsTlsOptions {
  /** This node's certificate chain (PEM), presented as server and, when dialing, as client certificate. */
  cert: Pem;
  /** The private key of `cert` (PEM). */
  key: Pem;
  /** Passphrase of `key`, if it is encrypted. */
  passphrase?: string;
  /** CA certificates (PEM) trusted for peers' certificates. Default: Node's bundled public CAs. */
  ca?: Pem | Pem[];
  /** Refuse incoming connections that do not present a certificate signed by `ca`. Default false. */
  requireClientCert?: boolean;
  /**
   * Verify the certificate of the nodes this node dials. Default true; turning it off leaves only the
   * cluster-secret handshake between this node and an impostor.
   */
  verifyPeer?: boolean;
}

function secureContext(t: WsTlsOptions): SecureContextOptions {
  const ctx: SecureContextOptions = { cert: t.cert, key: t.key };
  if (t.passphrase !== undefined) ctx.passphrase = t.passphrase;
  if (t.ca !== undefined) ctx.ca = t.ca;
  return ctx;
}

/** Options for the https server that carries the wss:// listener. */
export function serverTlsOptions(t: WsTlsOptions): TlsOptions {
  const required = t.requireClientCert ?? false;
  return { ...secureContext(t), requestCert: required, rejectUnauthorized: required };
}

/** TLS parts of the ws client options used when dialing a wss:// address. */
export function clientTlsOptions(t: WsTlsOptions | undefined): ClientOptions {
  if (t === undefined) return {};
  return { ...secureContext(t), rejectUnauthorized: t.verifyPeer ?? true };
}
