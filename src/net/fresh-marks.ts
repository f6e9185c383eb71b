/**
 * Marks connections as fresh from their accept until the event loop has polled for I/O once more,
 * i.e. until the server has had the chance to read what the client sent right after connecting. A
 * burst of connections is accepted in one poll phase, before any of them is read; without this a
 * flood arriving in one burst could evict a real client's connection before its request, already
 * in the kernel's buffer, was ever looked at.
 *
 * Event-loop turns, not time: the first setImmediate runs after the poll phase that accepted the
 * connection, the second after the next poll phase (the one that reads it). Connections accepted in
 * between start a batch of their own.
 */
export class FreshMarks<T> {
  private accepting = new Set<T>();
  private readonly waiting: Set<T>[] = [];
  private scheduled = false;

  mark(conn: T): void {
    this.accepting.add(conn);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      const batch = this.accepting;
      this.accepting = new Set();
      this.scheduled = false;
      this.waiting.push(batch);
      setImmediate(() => { this.waiting.splice(this.waiting.indexOf(batch), 1); });
    });
  }

  isFresh(conn: T): boolean {
    return this.accepting.has(conn) || this.waiting.some((b) => b.has(conn));
  }
}
