import type { ActorDefinition } from '../../src/actor-types.js';
import type { ServiceLocator } from '../../src/locator.js';
import type { Logger } from '../../src/logger.js';
import { createRandom, type Random } from '../../src/random.js';
import { replyLater } from '../../src/reply-later.js';
import { createComponents } from './components.js';
import { resolveConfig, type OrchestratorConfig } from './config.js';
import { JobRunner } from './job-runner.js';
import { OrchestratorProtocol, type OrchestratorProtocolType } from './protocol.js';

export interface OrchestratorActorOptions {
  /** Finds data, network, storage and the compute agents (keyed by host name). */
  locator: ServiceLocator;
  /**
   * The node the jobs belong to (async_job.owner_node): a restarted orchestrator with the same id picks
   * up the jobs its predecessor left pending. Default: the actor system's node id.
   */
  ownerNode?: string;
  /** Host shuffling (random allocation) and passwords. Default: OS-seeded. */
  random?: Random;
  config?: Partial<OrchestratorConfig>;
}

export interface OrchestratorState {
  runner: JobRunner;
}

/**
 * The orchestration engine. Handlers only create jobs and answer (the flows run in the background, so
 * one actor serves thousands of concurrent jobs); `started` recovers the jobs an earlier incarnation
 * left pending, `stopping` makes running flows stop at their next step, leaving their jobs pending.
 */
export function orchestratorActor(options: OrchestratorActorOptions): ActorDefinition<OrchestratorProtocolType, OrchestratorState> {
  const config = resolveConfig(options.config);
  const random = options.random ?? createRandom();
  // The incarnation whose flows are running: a new one (restart after a crash) makes it stop first.
  let current: JobRunner | undefined;
  return {
    protocol: OrchestratorProtocol,
    init: (ctx) => {
      const c = createComponents({ locator: options.locator, clock: ctx.clock, random, log: ctx.log, config });
      current?.stop();
      current = new JobRunner(c, options.ownerNode ?? ctx.self.node, ctx.clock.now());
      return { runner: current };
    },
    started: async (ctx) => { await recoverAtStart(ctx.state.runner, ctx.log); },
    restarted: async (ctx) => { await recoverAtStart(ctx.state.runner, ctx.log); },
    stopping: (ctx) => { ctx.state.runner.stop(); },
    handlers: {
      // Submissions wait on the data service (several round trips each): many are in progress at once.
      submit: (req, ctx) => replyLater(ctx, () => ctx.state.runner.submit(req)),
      execute: (req, ctx) => replyLater(ctx, () => ctx.state.runner.execute(req)),
      stats: (_b, ctx) => ctx.state.runner.stats(),
    },
  };
}

/**
 * Starts the runner and picks up what this node's previous incarnation left. The data service may not
 * be reachable yet (a cloud starting up): the periodic takeover scan picks those jobs up later.
 */
async function recoverAtStart(runner: JobRunner, log: Logger): Promise<void> {
  runner.start();
  try {
    const n = await runner.recover();
    if (n > 0) log.info('picked up jobs left pending by another orchestrator incarnation', { jobs: n });
  } catch (err) {
    log.warn('could not look for jobs left pending yet; the takeover scan retries', { error: (err as Error).message });
  }
}
