import { expect } from 'chai';
import { BroadcastQueue } from '../../src/gossip/broadcast-queue.js';
import type { Update } from '../../src/gossip/messages.js';

const left = (node: string, inc = 1): Update => ({ t: 'left', node, epoch: 1, inc });

describe('gossip/broadcast-queue (transmit-limited)', () => {
  it('sends each update at most `limit` times, then forgets it', () => {
    const q = new BroadcastQueue(100);
    q.push('a', left('a'), 10);
    for (let i = 0; i < 3; i++) expect(q.take(1000, 10, 3)).to.have.length(1);
    expect(q.take(1000, 10, 3)).to.have.length(0);
    expect(q.length).to.equal(0);
  });

  it('sends the least-sent updates first, newest first among equals', () => {
    const q = new BroadcastQueue(100);
    q.push('a', left('a'), 10);
    q.take(1000, 10, 5);
    q.push('b', left('b'), 10);
    q.push('c', left('c'), 10);
    const got = q.take(1000, 2, 5).map((u) => u.node);
    expect(got).to.deep.equal(['c', 'b']);
    expect(q.take(1000, 10, 5).map((u) => u.node).sort()).to.deep.equal(['a', 'b', 'c']);
  });

  it('replaces an older update about the same member', () => {
    const q = new BroadcastQueue(100);
    q.push('a', left('a', 1), 10);
    q.push('a', left('a', 2), 10);
    expect(q.length).to.equal(1);
    expect(q.take(1000, 10, 5)).to.deep.equal([left('a', 2)]);
  });

  it('keeps within the byte budget, skipping updates that do not fit', () => {
    const q = new BroadcastQueue(100);
    q.push('small', left('small'), 10);
    q.push('big', left('big'), 500);
    q.push('small2', left('small2'), 10);
    expect(q.take(100, 10, 5).map((u) => u.node).sort()).to.deep.equal(['small', 'small2']);
    expect(q.take(600, 10, 5).map((u) => u.node)).to.include('big');
  });

  it('is bounded: past maxItems it drops the most-sent update', () => {
    const q = new BroadcastQueue(2);
    q.push('a', left('a'), 10);
    q.take(1000, 10, 5);
    q.push('b', left('b'), 10);
    q.push('c', left('c'), 10);
    expect(q.length).to.equal(2);
    expect(q.droppedCount).to.equal(1);
    expect(q.take(1000, 10, 5).map((u) => u.node).sort()).to.deep.equal(['b', 'c']);
  });
});
