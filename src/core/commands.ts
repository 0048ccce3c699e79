/**
 * Operator commands (takeover, standby, maintenance): they change what a node advertises,
 * never the state directly, so the ordinary election carries them out (takeover advertises
 * priority 255, standby priority 1 after a planned handover, maintenance priority 0; in an
 * ecmp bgp group standby withdraws the member and takeover brings it back).
 */
import type { EvalCore } from './evaluate.js';
import type { GroupRt } from './group.js';
import { isLevip, isShared, type StepCtx } from './step.js';
import type { CommandReply, OperatorCommand } from './types.js';
import { liveCandidates } from './views.js';
import { unitOf } from './sync.js';

/** What a command reads and changes of the core (the Core class; an interface, so no import cycle). */
interface CommandCore extends EvalCore {
  maintenance: boolean;
  readonly groups: readonly GroupRt[];
}

export function operatorCommand(core: CommandCore, cmd: OperatorCommand, ctx: StepCtx): CommandReply {
  if (cmd.op === 'maintenance') {
    core.maintenance = cmd.on;
    ctx.sendNow = true;
    return { ok: true, message: cmd.on ? 'maintenance on: leaving every election' : 'maintenance off: back in the elections' };
  }
  // A group in a sync unit takes its unit along (sync.ts): the unit moves as one.
  const named = core.groups.find((g) => g.name === cmd.group);
  const targets = cmd.group === undefined ? core.groups : named ? unitOf(core.groups, named) : [];
  if (targets.length === 0) return { ok: false, message: `no group named ${cmd.group}` };
  const msgs: string[] = [];
  let ok = true;
  for (const g of targets) {
    const r = cmd.op === 'takeover' ? takeover(core, g, ctx) : standby(core, g, ctx);
    ok &&= r.ok;
    msgs.push(`${g.name}: ${r.message}`);
  }
  ctx.sendNow = true;
  return { ok, message: msgs.join('; ') };
}

function takeover(core: CommandCore, g: GroupRt, ctx: StepCtx): CommandReply {
  if (isLevip(g)) return { ok: false, message: 'refused: every eligible LevIP member is already active (the rotation shares the IP)' };
  if (core.shuttingDown) return { ok: false, message: 'refused: agent is shutting down' };
  if (core.maintenance) return { ok: false, message: 'refused: node is in maintenance' };
  if (g.state === 'fault') return { ok: false, message: `refused: group in fault (${g.faultReason ?? 'unknown'})` };
  g.demoted = false;
  // ecmp bgp: no election to win; takeover only undoes a standby (the member announces again).
  g.boosted = !isShared(g);
  if (g.state === 'active' && !g.release) return { ok: true, message: 'already active' };
  g.release = null;
  if (g.state === 'init') g.become('standby', ctx.now, 'operator takeover', ctx.transitions);
  return { ok: true, message: isShared(g) ? 'joining the ecmp members' : 'taking over' };
}

function standby(core: CommandCore, g: GroupRt, ctx: StepCtx): CommandReply {
  if (isLevip(g)) return { ok: false, message: 'refused: a LevIP member has no standby; `haagent maintenance on` takes it out of the rotation' };
  g.boosted = false;
  g.demoted = true;
  if (g.state !== 'active') return { ok: true, message: `already ${g.state}; will not claim while a peer can` };
  const successor = liveCandidates(core.peers, g, ctx.now).length > 0;
  if (!successor) {
    g.demoted = false;
    return { ok: false, message: 'refused: no live peer to hand the VIP to' };
  }
  core.startRelease(g, 'operator standby', ctx);
  return { ok: true, message: 'handing over to the best peer' };
}

