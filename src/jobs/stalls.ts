/**
 * How many times a job may be cut short by its replica dying (kill -9, OOM, a lost node) before BullMQ fails it.
 * BullMQ's default is 1: a second crash during the same job would drop a message check, an alert's event or a chat
 * delivery for good, although replicas may die at any time. A job that kills every replica running it still ends,
 * after this many crashes.
 */
export const MAX_STALLED_COUNT = 20;
