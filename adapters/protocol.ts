/**
 * The omakase WebSocket protocol: message shapes, error and close codes, limits, and the validator for client
 * messages. Dependency-free on purpose: the browser client imports this same module. docs/protocol.md is the
 * reference; test/adapters/ws/protocolDoc.test.ts keeps the two in step.
 */
// One concept per module in ./protocol/, all re-exported here: importers (the browser client among them) keep
// this one path. Those modules import only each other (test/adapters/ws/protocol.test.ts checks it).
export * from './protocol/closeCodes.ts';
export * from './protocol/errorCodes.ts';
export * from './protocol/limits.ts';
export * from './protocol/messages.ts';
export * from './protocol/parseClientMessage.ts';
