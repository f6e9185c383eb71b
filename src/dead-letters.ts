/** A message that found no actor (or was dropped): kept for inspection in a bounded ring. */
export interface DeadLetter {
  at: number;
  type: string;
  to: string;
  reason: string;
}

export class DeadLetterBuffer {
  private readonly items: DeadLetter[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(d: DeadLetter): void {
    if (this.items.length < this.capacity) this.items.push(d);
    else this.items[this.next] = d;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): DeadLetter[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}
