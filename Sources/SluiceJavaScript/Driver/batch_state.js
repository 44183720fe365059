// ---- Batch state --------------------------------------------------------------------------
let sequence = 0, running = false;
// items: one record per input, every field own ({message, metadata, messageId, error}).
let items = null, entry = null, credentials = null, eventCredentials = null;
// Records finished so far, each preceded by RS (an empty record is skipped by the host).
let out = "", logs = "", unmocked = "";
// Characters of log text the batch has logged (JSON-escaped): past LOG_LIMIT, lines are dropped
// and one line says so, so logging can never outgrow the worker's channel.
const LOG_LIMIT = 16777216;
const LOG_LIMIT_LINE = "log output past 16 MB in this batch was dropped";
let logged = 0;
let cursor = 0, waiting = false, settled = false, settledValue = undefined, settledError = false;
let currentIndex = -1, messageIndex = null, instantiating = false;
// The call whose promise jobs are draining after its result was recorded, and where its records start.
let drainIndex = -1, drainMark = 0;
// Where a transformBatch call's records start in `out`: a limit hit while its results are being
// accepted takes back the outputs already recorded, so no input gets an output and an error.
let batchMark = -1;
// Integers of the inputs that JavaScript numbers cannot hold exactly (see integerLiteralsOf).
let integerLiterals = null;
// Set when the last restore could not remove a property user code left on Object.prototype.
let realmTainted = false;
