/** The codes of what an alert gate reports (the shared store's are StoreCodes). */
export const GateCodes = {
  /** msg.payload has no source and id. */
  NOT_AN_EVENT: 'ALERT_NOT_AN_EVENT',
  /** What passed could not be written to the user directory (it is tried again). */
  NOT_SAVED: 'ALERT_STATE_NOT_SAVED',
  /** Settings the gate cannot work with. */
  CONFIG_INVALID: 'ALERT_CONFIG_INVALID',
} as const;
