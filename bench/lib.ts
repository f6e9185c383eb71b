/** Shared pieces of `npm run bench`: the JSON line format, a windowed meter, percentiles. */
export interface BenchLine {
  case: string;
  value: number;
  unit: string;
  baseline: string;
  baseline_value: number;
  ratio: number;
  target?: string;
  met?: boolean;
}

export type Emit = (line: BenchLine) => void;

export function envInt(name: string, def: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
}

/** Warm-up and measured window, ms (env WARMUP_MS / DURATION_MS; the same as the peer scripts). */
export const WARMUP_MS = envInt('WARMUP_MS', 500);
export const DURATION_MS = envInt('DURATION_MS', 2000);

export function line(c: string, value: number, unit: string, baseline: string, baselineValue: number, target?: { ratio: number; higherIsBetter: boolean }): BenchLine {
  const ratio = baselineValue > 0 && Number.isFinite(baselineValue) ? value / baselineValue : NaN;
  const out: BenchLine = {
    case: c, value: round(value), unit, baseline, baseline_value: round(baselineValue), ratio: round(ratio),
  };
  if (target) {
    out.target = `${target.higherIsBetter ? '>=' : '<='} ${target.ratio} x ${baseline}`;
    out.met = target.higherIsBetter ? ratio >= target.ratio : ratio <= target.ratio;
  }
  return out;
}

export function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : v;
}

/** Counts events; after warm-up measures for the window, driven by hrtime (works under microtask loops). */
export class WindowMeter {
  count = 0;
  measuring = false;
  finished = false;
  private since = 0;
  private c0 = 0;
  private t0 = 0n;
  private readonly start = process.hrtime.bigint();
  private resolveDone!: (r: { rate: number; seconds: number }) => void;
  readonly done = new Promise<{ rate: number; seconds: number }>((r) => { this.resolveDone = r; });
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly warmupMs = WARMUP_MS, private readonly durationMs = DURATION_MS) {
    this.timer = setInterval(() => this.check(), 50);
  }

  tick(n = 1): void {
    this.count += n;
    if ((this.since += n) >= 1024) { this.since = 0; this.check(); }
  }

  private check(): void {
    if (this.finished) return;
    const now = process.hrtime.bigint();
    if (!this.measuring) {
      if (Number(now - this.start) >= this.warmupMs * 1e6) { this.measuring = true; this.c0 = this.count; this.t0 = now; }
    } else if (Number(now - this.t0) >= this.durationMs * 1e6) {
      const seconds = Number(now - this.t0) / 1e9;
      this.measuring = false;
      this.finished = true;
      clearInterval(this.timer);
      this.resolveDone({ rate: (this.count - this.c0) / seconds, seconds });
    }
  }
}

export function percentiles(samples: number[]): { p50: number; p90: number; p99: number } {
  const a = Float64Array.from(samples).sort();
  const pick = (p: number): number => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))]! : NaN);
  return { p50: pick(50), p90: pick(90), p99: pick(99) };
}

export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
