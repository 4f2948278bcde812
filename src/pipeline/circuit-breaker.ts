/**
 * A circuit breaker per sink. Closed: writes flow. After `failureThreshold` consecutive failed
 * writes it opens: the sink loop stops reading (its events wait, pending, in the stream) for
 * `openMs`; then half-open: one small probe batch is written; success closes it, failure
 * opens it again for another `openMs`.
 */

/** The breaker states; the gauge `jobscope_sink_breaker_state` shows 0, 1, 2. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Gauge value of each state. */
export const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failed writes that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before a probe, in ms. Default 10000. */
  openMs?: number;
  /** Called on every state change. */
  onChange?: (state: BreakerState) => void;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** A circuit breaker. */
export interface CircuitBreaker {
  /** The current state; an open breaker whose time is up reports `half-open`. */
  state(): BreakerState;
  /** Ms until an open breaker lets a probe through (0 when not open). */
  waitMs(): number;
  success(): void;
  failure(): void;
  /** Consecutive failures so far. */
  failures(): number;
}

/** Creates a {@link CircuitBreaker}. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5;
  const openMs = options.openMs ?? 10_000;
  const now = options.now ?? Date.now;
  let current: BreakerState = 'closed';
  let openedAt = 0;
  let consecutive = 0;

  function set(next: BreakerState): void {
    if (next === current) return;
    current = next;
    options.onChange?.(next);
  }

  function state(): BreakerState {
    if (current === 'open' && now() - openedAt >= openMs) set('half-open');
    return current;
  }

  function failure(): void {
    consecutive++;
    if (state() === 'half-open' || consecutive >= threshold) {
      openedAt = now();
      set('open');
    }
  }

  function success(): void {
    consecutive = 0;
    set('closed');
  }

  const waitMs = (): number => (state() === 'open' ? Math.max(0, openMs - (now() - openedAt)) : 0);
  return { state, waitMs, success, failure, failures: () => consecutive };
}
