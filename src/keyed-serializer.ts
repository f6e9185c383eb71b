/**
 * Runs tasks one at a time per key, in submission order (a VM's operations), and tasks of different
 * keys concurrently. Keys with nothing queued are forgotten, so the map holds only busy keys.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  get busyKeys(): number {
    return this.tails.size;
  }

  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    if (key === undefined) return task();
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }
}
