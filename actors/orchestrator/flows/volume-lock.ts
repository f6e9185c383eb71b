import type { Components } from '../components.js';
import { SYSTEM } from '../vm-state.js';

/** A volume's operations are serialised with its VM's when it is attached. */
export async function volumeLock(c: Components, volumeid: string): Promise<string> {
  try {
    return (await c.data.volumes.get(SYSTEM, volumeid)).virtualmachineid ?? volumeid;
  } catch {
    return volumeid;
  }
}
