/**
 * Queue-group fan-out, as NATS does it: a message goes to every matching subscription outside a
 * queue group and to one member of each group. Shared by the in-process bus and the simulated
 * one, which differ only in how a member is picked (round robin, or the simulation's PRNG) and
 * how a message is handed over (a call now, or a delivery across the simulated network).
 */

/** A subscription as the fan-out sees it. */
export interface QueueMember {
  readonly queue: string | undefined;
}

/** How a bus hands a message to a subscription and picks a group's member. */
export interface FanOut<S extends QueueMember, M> {
  /** Hands `msg` to `sub`. */
  deliver(sub: S, msg: M): void;
  /** The member of group `queue` that gets the message; `members` is never empty. */
  pick(queue: string, members: readonly S[]): S;
  /** Whether `sub` takes part at all (default: every one does). */
  active?(sub: S): boolean;
}

/**
 * Hands `msg` to each of `subs` outside a queue group, in their order, then to one member of each
 * group, groups in the order of their first member.
 */
export function fanOut<S extends QueueMember, M>(
  subs: readonly S[],
  msg: M,
  how: FanOut<S, M>,
): void {
  let groups: Map<string, S[]> | undefined;
  for (const sub of subs) {
    if (how.active && !how.active(sub)) continue;
    if (sub.queue === undefined) {
      how.deliver(sub, msg);
    } else {
      groups ??= new Map();
      const members = groups.get(sub.queue);
      if (members) members.push(sub);
      else groups.set(sub.queue, [sub]);
    }
  }
  if (groups) {
    for (const [queue, members] of groups) how.deliver(how.pick(queue, members), msg);
  }
}
