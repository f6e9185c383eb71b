/** Which KVM hosts act on a volume's or snapshot's file: one per cluster, since a cluster's hosts share its storage directory. */
import { expect } from 'chai';
import { oneHostPerCluster } from '../../../actors/orchestrator/volume-files.js';

describe('orchestrator: hosts asked about a file in shared cluster storage', () => {
  it('names the first connected host of each cluster, in order, and every host without a cluster', () => {
    const hosts = [
      { name: 'k1', clusterid: 'c1' }, { name: 'k2', clusterid: 'c1' }, { name: 'x1', clusterid: undefined },
      { name: 'm1', clusterid: 'c2' }, { name: 'k3', clusterid: 'c1' }, { name: 'x2', clusterid: undefined }, { name: 'm2', clusterid: 'c2' },
    ];
    expect(oneHostPerCluster(hosts).map((h) => h.name)).to.deep.equal(['k1', 'x1', 'm1', 'x2']);
    expect(oneHostPerCluster([])).to.deep.equal([]);
  });
});
