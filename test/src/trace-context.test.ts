/**
 * A trace id follows the work: an ask made under a trace (an API request's) carries it in its envelope,
 * a handler of a traced message runs under it, and the asks that handler makes — with or without its
 * actor context, to this node or another — carry it on. Logs print it.
 */
import { expect } from 'chai';
import { createLogger, jsonSink, silentLogger } from '../../src/logger.js';
import { Node } from '../../src/node.js';
import { ask, defineProtocol } from '../../src/protocol.js';
import { t } from '../../src/schema.js';
import { currentTrace, withTrace } from '../../src/trace-context.js';
import { InprocHub } from '../../transports/inproc/hub.js';
import { InprocTransport } from '../../transports/inproc/inproc-transport.js';

const Probe = defineProtocol('probe', '1.0', {
  /** Answers the trace it runs under (or 'none'). */
  trace: ask(t.object({}), t.string()),
  /** Asks `node`'s /peer (no actor context) after an await, and answers what it saw. */
  relay: ask(t.object({ node: t.string() }), t.string()),
});

describe('trace context', () => {
  let nodes: Node[] = [];

  before(async () => {
    const hub = new InprocHub();
    nodes = ['api', 'orch', 'data'].map((nodeId) => new Node({ nodeId, transport: new InprocTransport({ nodeId, hub }), logger: silentLogger, askTimeoutMs: 5_000 }));
    for (const n of nodes) await n.start();
    for (const n of nodes) {
      n.system.spawn('/peer', { protocol: Probe, handlers: { trace: () => currentTrace() ?? 'none', relay: () => 'unused' } });
      n.system.spawn('/last', { protocol: Probe, handlers: {
        trace: () => currentTrace() ?? 'none',
        relay: async ({ node }) => {
          await new Promise((r) => setTimeout(r, 1));
          // Not ctx.ask: code deep in a component often holds a plain ref (a data client).
          return n.system.ref({ node, path: '/peer' }, Probe).ask('trace', {});
        },
      } });
    }
  });

  after(async () => { for (const n of nodes) await n.stop(); });

  it('carries the trace of the work through nested asks across nodes', async () => {
    const api = nodes[0]!.system;
    const seen = await withTrace('req-42', () => api.ref({ node: 'orch', path: '/last' }, Probe).ask('relay', { node: 'data' }));
    expect(seen).to.equal('req-42');
    const local = await withTrace('req-43', () => api.ref('/last', Probe).ask('relay', { node: 'api' }));
    expect(local).to.equal('req-43');
  });

  it('asks outside any traced work carry none', async () => {
    expect(await nodes[0]!.system.ref({ node: 'orch', path: '/last' }, Probe).ask('relay', { node: 'data' })).to.equal('none');
  });

  it('--log-format json writes one object per line with the trace id', () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => { written.push(chunk); return true; }) as typeof process.stderr.write;
    try {
      withTrace('req-44', () => createLogger('info', jsonSink).info('deploying', { vm: 'v1' }));
    } finally { process.stderr.write = write; }
    expect(written).to.have.length(1);
    expect(JSON.parse(written[0]!)).to.include({ level: 'info', msg: 'deploying', vm: 'v1', trace: 'req-44' });
  });
});
