/**
 * The agent's answers to control-socket requests: status, reload and the operator's
 * commands, each handed to the driver. Maintenance is written to the state directory first,
 * so that a node put in maintenance stays there across a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ControlRequest, ControlResponse } from './control.js';
import type { Driver } from './driver.js';
import type { StatusRecord } from './status-view.js';

export interface ControlDeps {
  driver(): Driver | null;
  status(): StatusRecord;
  reload(): ControlResponse;
  stateDir(): string;
}

/** The file whose presence keeps this node in maintenance (read at start). */
export function maintenanceFile(stateDir: string): string {
  return path.join(stateDir, 'maintenance');
}

export function handleControl(req: ControlRequest, deps: ControlDeps): ControlResponse {
  const d = deps.driver();
  if (!d) return { ok: false, message: 'agent is starting' };
  switch (req.cmd) {
    case 'status':
      return { ok: true, status: deps.status() };
    case 'reload':
      return deps.reload();
    case 'events':
      return { ok: false, message: 'events are streamed by the control server' };
    case 'takeover':
    case 'standby':
      return d.command(req.group === undefined ? { op: req.cmd } : { op: req.cmd, group: req.group });
    case 'maintenance': {
      // Persist first: a maintenance flag that would not survive a restart is refused.
      const file = maintenanceFile(deps.stateDir());
      const err = persistMaintenance(file, req.on);
      if (err) return { ok: false, message: `refused: cannot record maintenance in ${file}: ${err}` };
      return d.command({ op: 'maintenance', on: req.on });
    }
  }
}

function persistMaintenance(file: string, on: boolean): string | null {
  try {
    if (on) fs.writeFileSync(file, `maintenance on since ${new Date().toISOString()}\n`, { mode: 0o600 });
    else fs.rmSync(file, { force: true });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
