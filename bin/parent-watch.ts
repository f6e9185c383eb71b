/**
 * A process started by a launcher (actors/launcher) watches its parent: the launcher gives it an IPC
 * channel, which the kernel closes when the launcher exits in any way — SIGKILL included. When it
 * closes, the process stops itself as on SIGTERM (cleanly: leaves the cluster, closes its database),
 * so a killed launcher never leaves orphans behind; the service framework starts replacements
 * through another launcher.
 */
import { LAUNCHED_ENV } from '../actors/launcher/children.js';

export function watchParent(onParentGone: () => void): boolean {
  if (process.env[LAUNCHED_ENV] !== '1' || process.channel === undefined) return false;
  // The channel carries nothing; it must not keep this process alive on its own.
  process.channel.unref();
  process.once('disconnect', onParentGone);
  return true;
}
