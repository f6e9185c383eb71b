import { expect } from 'chai';
import { InternalError, NoInstanceError, PeerDownError, ResourceUnavailableError, TimeoutError } from '../../../src/errors.js';
import { classifyProbeError, investigate, witness, type HostView } from '../../../actors/fabric-monitor/investigation.js';
import { resolveFabricConfig, fabricTestConfig } from '../../../actors/fabric-monitor/config.js';

describe('fabric monitor: investigation before Down', () => {
  it('tells an agent that answered with an error from one that could not be reached', () => {
    expect(classifyProbeError(new ResourceUnavailableError('Simulated failure'))).to.equal('hypervisor-down');
    expect(classifyProbeError(new InternalError('Simulated fault'))).to.equal('hypervisor-down');
    for (const e of [new TimeoutError('t'), new PeerDownError('p'), new NoInstanceError('n'), new Error('plain')]) {
      expect(classifyProbeError(e)).to.equal('unreachable');
    }
  });

  it('declares Down only on a dead hypervisor or a node no member reaches, and only with a witness', () => {
    expect(investigate({ probe: 'hypervisor-down', verdict: 'alive', witness: true }).status).to.equal('Down');
    expect(investigate({ probe: 'hypervisor-down', verdict: 'alive', witness: false }).status).to.equal('Alert');
    for (const v of ['failed', 'left', 'unknown'] as const) {
      expect(investigate({ probe: 'unreachable', verdict: v, witness: true }).status).to.equal('Down');
      expect(investigate({ probe: 'unreachable', verdict: v, witness: false }).status).to.equal('Alert');
    }
  });

  it('keeps a host cut off from the management node only (others still reach it) in Alert', () => {
    for (const v of ['alive', 'suspect'] as const) {
      const f = investigate({ probe: 'unreachable', verdict: v, witness: true });
      expect(f.status).to.equal('Alert');
      expect(f.reason).to.match(/other members still reach/);
    }
    expect(investigate({ probe: 'unreachable', verdict: undefined, witness: true }).status).to.equal('Alert');
    expect(investigate({ probe: 'answered', verdict: 'alive', witness: true }).status).to.equal('Alert');
  });

  it('witness rule: another Up host must answer, and at most the configured share may be lost at once', () => {
    const hosts = (lost: boolean[]): HostView[] => lost.map((l, i) => ({ id: `h${i}`, state: 'Up', lost: l }));
    expect(witness('h0', hosts([true, false, false]), 0.5)).to.equal(true);
    expect(witness('h0', hosts([true, true, false]), 0.5)).to.equal(false, '2 of 3 lost at once');
    expect(witness('h0', hosts([true, true, true]), 0.5)).to.equal(false, 'a management node cut off from every host');
    expect(witness('h0', hosts([true]), 0.5)).to.equal(false, 'nobody else to compare with');
    const withDown: HostView[] = [{ id: 'h0', state: 'Up', lost: true }, { id: 'h1', state: 'Down', lost: true }, { id: 'h2', state: 'Up', lost: false }];
    expect(witness('h0', withDown, 0.5)).to.equal(true, 'hosts already Down do not count');
  });

  it('refuses contradictory timings with a message that names the option', () => {
    expect(() => resolveFabricConfig({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 })).to.throw(/heartbeatTimeoutMs/);
    expect(() => resolveFabricConfig({ isolationFenceMs: 5000, fenceWaitMs: 4000 })).to.throw(/fenceWaitMs .* isolationFenceMs/);
    expect(() => resolveFabricConfig({ checkIntervalMs: 0 })).to.throw(/checkIntervalMs/);
    expect(resolveFabricConfig(fabricTestConfig()).heartbeatIntervalMs).to.equal(250);
  });
});
