/** Exit codes, from sysexits(3) where one fits. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64,
  /** no agent running (like LSB status: "program is not running") */
  NOT_RUNNING: 3,
  /** EX_CONFIG: the configuration is invalid; nothing was changed. */
  CONFIG: 78,
  /** EX_NOPERM */
  NOPERM: 77,
  /** EX_UNAVAILABLE: a needed service (ip, arping, the agent) is missing. */
  UNAVAILABLE: 69,
  /** EX_CANTCREAT: an output file cannot be created (import-keepalived --output). */
  CANTCREAT: 73,
} as const;
