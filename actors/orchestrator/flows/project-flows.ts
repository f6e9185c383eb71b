import { SYSTEM } from '../vm-state.js';
import { SUCCESS, object, type Flow } from './flow.js';

/** Project jobs: membership and state changes are data changes, one step each, serialised per project. */

const byProject = async (req: { projectid: string }): Promise<string> => `project:${req.projectid}`;

export const PROJECT_FLOWS = {
  createProject: {
    lock: async () => undefined,
    run: async (env) => object('project', await env.c.data.projects.get(SYSTEM, env.ctx.get<string>('created')!)),
  } as Flow<'createProject'>,
  updateProject: {
    lock: byProject,
    async run(env, req) {
      const patch: { displaytext?: string; state?: 'Active' | 'Suspended' } = {};
      if (req.displaytext !== undefined) patch.displaytext = req.displaytext;
      if (req.state !== undefined) patch.state = req.state;
      await env.ctx.step('update', async () => { await env.c.data.projects.update(req.caller, req.projectid, patch); return true; });
      return object('project', await env.c.data.projects.get(SYSTEM, req.projectid));
    },
  } as Flow<'updateProject'>,
  deleteProject: {
    lock: byProject,
    async run(env, req) {
      await env.ctx.step('delete', async () => { await env.c.data.projects.delete(req.caller, req.projectid); return true; });
      return SUCCESS;
    },
  } as Flow<'deleteProject'>,
  addAccountToProject: {
    lock: byProject,
    async run(env, req) {
      await env.ctx.step('add', async () => { await env.c.data.projects.addAccount(req.caller, req.projectid, req.account, req.role ?? 'Regular'); return true; });
      return SUCCESS;
    },
  } as Flow<'addAccountToProject'>,
  deleteAccountFromProject: {
    lock: byProject,
    async run(env, req) {
      await env.ctx.step('remove', async () => { await env.c.data.projects.removeAccount(req.caller, req.projectid, req.account); return true; });
      return SUCCESS;
    },
  } as Flow<'deleteAccountFromProject'>,
} as const;
