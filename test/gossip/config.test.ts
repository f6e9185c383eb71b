import { expect } from 'chai';
import { ConfigError } from '../../src/errors.js';
import {
  defaultConfig, memberlistLanConfig, pushPullInterval, resolveConfig, retransmitLimit, suspicionTimeouts, testConfig,
} from '../../src/gossip/config.js';

describe('gossip/config', () => {
  it('reproduces memberlist\'s LAN window: 12–72 s at N = 1,000', () => {
    const w = suspicionTimeouts(memberlistLanConfig(), 1000);
    expect(w.min).to.equal(12_000);
    expect(w.max).to.equal(72_000);
  });

  it('keeps the default window at its pause-tolerance floor up to 1,000 members, longer above', () => {
    const cfg = defaultConfig();
    expect(suspicionTimeouts(cfg, 20).min).to.equal(cfg.suspicionFloor);
    expect(suspicionTimeouts(cfg, 1000).min).to.equal(cfg.suspicionFloor);
    expect(suspicionTimeouts(cfg, 100_000).min).to.be.greaterThan(cfg.suspicionFloor);
    expect(suspicionTimeouts(cfg, 1000).max).to.equal(cfg.suspicionMaxTimeoutMult * cfg.suspicionFloor);
    // The earliest verdict (window + verification round) outlasts a 2 s pause.
    expect(cfg.suspicionFloor + cfg.probeInterval).to.be.greaterThan(2000);
  });

  it('retransmits retransmitMult × ceil(log10(N + 1)) times', () => {
    const cfg = defaultConfig();
    expect(retransmitLimit(cfg, 9)).to.equal(4);
    expect(retransmitLimit(cfg, 1000)).to.equal(16);
  });

  it('scales the push-pull period with the cluster above 32 members', () => {
    const cfg = defaultConfig();
    expect(pushPullInterval(cfg, 32)).to.equal(30_000);
    expect(pushPullInterval(cfg, 64)).to.equal(60_000);
    expect(pushPullInterval(cfg, 1000)).to.equal(30_000 * 6);
  });

  it('testConfig has timers about 5× shorter and is valid', () => {
    const t = resolveConfig({}, testConfig());
    expect(t.probeInterval * 5).to.equal(defaultConfig().probeInterval);
    expect(t.suspicionFloor * 5).to.equal(defaultConfig().suspicionFloor);
  });

  it('rejects contradictory or invalid options, naming them', () => {
    expect(() => resolveConfig({ probeTimeout: 400, probeInterval: 300 })).to.throw(ConfigError, /probeTimeout/);
    expect(() => resolveConfig({ gossipNodes: 0 })).to.throw(ConfigError, /gossipNodes/);
    expect(() => resolveConfig({ indirectChecks: 1.5 })).to.throw(ConfigError, /indirectChecks/);
    expect(() => resolveConfig({ cluster: '' })).to.throw(ConfigError, /cluster/);
    expect(() => resolveConfig({ maxMetadataBytes: 10_000, maxPiggybackBytes: 4096 })).to.throw(ConfigError, /maxMetadataBytes/);
    expect(() => resolveConfig({ suspicionFloor: Number.NaN })).to.throw(ConfigError, /suspicionFloor/);
  });
});
