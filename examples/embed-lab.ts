/**
 * Embedding a whole CloudStack-compatible cloud in a program or a test suite:
 *
 *   npm run build && node dist/examples/embed-lab.js
 *
 * In your own project the import is `import { startLab } from 'cloudstackd'`.
 */
import { createHmac } from 'node:crypto';
import { startLab } from '../bin/index.js';

/** CloudStack's request signing: sorted parameters, URL-encoded, lower-cased, HMAC-SHA1, Base64. */
function signedUrl(endpoint: string, params: Record<string, string>, apiKey: string, secretKey: string): string {
  const all = { ...params, apiKey };
  const encode = (v: string): string => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = Object.keys(all).sort().map((k) => `${k}=${encode(all[k as keyof typeof all])}`).join('&');
  const signature = createHmac('sha1', secretKey).update(query.toLowerCase()).digest('base64');
  return `${endpoint}?${query}&signature=${encodeURIComponent(signature)}`;
}

async function main(): Promise<void> {
  // In memory, on a free port, with 4 simulated hosts: nothing to clean up afterwards.
  const lab = await startLab({ hosts: 4 });
  try {
    console.log(`endpoint ${lab.endpoint}`);
    const res = await fetch(signedUrl(lab.endpoint, { command: 'listZones', response: 'json' }, lab.apiKey, lab.secretKey));
    const body = (await res.json()) as { listzonesresponse: { count?: number; zone?: { id: string; name: string }[] } };
    for (const zone of body.listzonesresponse.zone ?? []) console.log(`zone ${zone.name} (${zone.id})`);
  } finally {
    await lab.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
