/** A duration or a monotonic time in milliseconds (every timing in the agent is one). */
export type Millis = number;
