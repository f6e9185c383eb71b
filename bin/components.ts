import type { Node } from '../src/node.js';
import type { Logger } from '../src/logger.js';
import { echoActor } from '../actors/echo/echo-actor.js';
import { ECHO_PATH } from '../actors/echo/protocol.js';
import type { CliConfig } from './cli-options.js';

/** What a started component gives back: a way to stop it. */
export interface Started {
  name: string;
  stop(): Promise<void>;
}

export interface ComponentEnv {
  node: Node;
  config: CliConfig;
  log: Logger;
}

type Starter = (env: ComponentEnv) => Promise<Started>;

/** How each component named by --role is started on a node. */
export const STARTERS: Record<string, Starter> = {
  echo: async ({ node }) => {
    node.system.spawn(ECHO_PATH, echoActor());
    return { name: 'echo', stop: () => node.system.stop(ECHO_PATH) };
  },
};
