/// <reference lib="dom" />
/**
 * Routes the stream's messages a frame's budget at a time. A fleet's round of updates comes as a
 * message per channel, thousands at once, and routed in one go it held the page's next frame until
 * the last was handled: that frame was the feed's worst. In a frame's time (`window_ms`) at most
 * `messages_per_frame` messages are routed, and no more once `frame_ms` were spent on them; the
 * rest wait, in the order they came, and are routed right after the next animation frame was
 * rendered, a budget again, and so on. A frame is asked for only when messages wait: one asked
 * for at each message split a round of a few cards' updates over two frames (the frame loop waits
 * for a burst to settle before it asks). Nothing is dropped and nothing overtakes: a channel's
 * points still arrive in the order sent. While the page is hidden there are no frames to leave
 * room for, and everything is routed as it comes (what was waiting too). The messages waiting are
 * bounded: past `waiting_max` they are all routed at once, so a page far behind its feed falls no
 * further.
 */

/** Bounds of a frame's routing, and of the messages waiting for a later frame. */
export const ROUTE_LIMITS = {
  messages_per_frame: 256,
  frame_ms: 8,
  window_ms: 16,
  waiting_max: 65_536,
} as const;

/** How many routed messages may sit at the head of the waiting list before it is copied down. */
const COMPACT_FROM = 4096;

/** Options of a RouteSlicer (ROUTE_LIMITS when not given). */
export interface RouteSlicerOptions {
  messages_per_frame?: number;
  frame_ms?: number;
  window_ms?: number;
  waiting_max?: number;
}

export class RouteSlicer<M> {
  readonly #route: (m: M) => void;
  readonly #budget: number;
  readonly #frameMs: number;
  readonly #windowMs: number;
  readonly #waitingMax: number;
  #waiting: M[] = [];
  /** The first message of `#waiting` not yet routed. */
  #head = 0;
  /** Messages routed since the last frame, and the time they took, ms. */
  #spent = 0;
  #spentMs = 0;
  /** When the budget being spent began (`performance.now()`). */
  #since = -Infinity;
  /** Whether a frame is asked for, after which the budget is new. */
  #armed = false;
  readonly #port: MessagePort;
  /** Messages routed; of them, those that waited for a later frame (the tests count both). */
  routed = 0;
  deferred = 0;
  /** The most messages routed on one budget, and the frames after which some waited. */
  mostPerFrame = 0;
  slicedFrames = 0;
  /** Animation frames asked for, to route what waits after them (the tests count the loop's). */
  framesAsked = 0;

  constructor(route: (m: M) => void, options: RouteSlicerOptions = {}) {
    this.#route = route;
    this.#budget = options.messages_per_frame ?? ROUTE_LIMITS.messages_per_frame;
    this.#frameMs = options.frame_ms ?? ROUTE_LIMITS.frame_ms;
    this.#windowMs = options.window_ms ?? ROUTE_LIMITS.window_ms;
    this.#waitingMax = options.waiting_max ?? ROUTE_LIMITS.waiting_max;
    // Posted from the animation frame's callback, it runs as a task after that frame's rendering:
    // the messages routed then are the next frame's.
    const channel = new MessageChannel();
    channel.port1.onmessage = () => this.#afterFrame();
    this.#port = channel.port2;
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.#drain(true);
    });
  }

  /** How many messages wait for a later frame. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Routes `m` now if this frame's budget allows and nothing waits, else after what waits. */
  take(m: M): void {
    if (document.hidden) {
      this.#drain(true);
      return this.#one(m);
    }
    if (this.waiting === 0) {
      // A frame's time since the budget began: the browser had its turn to render.
      const now = performance.now();
      if (now - this.#since >= this.#windowMs) this.#renew(now);
      if (this.#room()) return this.#one(m);
    }
    this.#arm();
    this.#waiting.push(m);
    this.deferred++;
    if (this.waiting > this.#waitingMax) this.#drain(true);
  }

  #room(): boolean {
    return this.#spent < this.#budget && this.#spentMs < this.#frameMs;
  }

  #one(m: M): void {
    const t0 = performance.now();
    this.#spent++;
    this.routed++;
    if (this.#spent > this.mostPerFrame) this.mostPerFrame = this.#spent;
    try {
      this.#route(m);
    } finally {
      this.#spentMs += performance.now() - t0;
    }
  }

  #arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    this.framesAsked++;
    requestAnimationFrame(() => this.#port.postMessage(0));
  }

  #renew(now: number): void {
    this.#spent = 0;
    this.#spentMs = 0;
    this.#since = now;
  }

  #afterFrame(): void {
    this.#armed = false;
    this.#renew(performance.now());
    if (this.waiting === 0) return;
    this.slicedFrames++;
    try {
      this.#drain(false);
    } finally {
      if (this.waiting > 0) this.#arm();
    }
  }

  /** Routes waiting messages while this frame's budget allows, or `all` of them. */
  #drain(all: boolean): void {
    while (this.#head < this.#waiting.length && (all || this.#room())) {
      const m = this.#waiting[this.#head]!;
      // Taken before it is routed: a route that throws does not have it routed again.
      this.#head++;
      this.#one(m);
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_FROM) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }
}
