// ---- Modules ------------------------------------------------------------------------------
function instantiate() {
  const instances = newList();
  for (let i = 0; i < factories.length; i++) {
    const deps = dependencies[i];
    const args = newList();
    args[0] = ObjectFreeze;
    for (let j = 0; j < deps.length; j++) args[j + 1] = instances[deps[j]];
    instances[i] = ReflectApply(factories[i], undefined, args);
  }
  const namespace = instances[instances.length - 1];
  const name = legacy ? "transform" : isBatch ? "transformBatch" : "transformEvent";
  const fn = namespace[name];
  if (typeof fn !== "function") throw new TypeErrorConstructor(name + " is not a function");
  return fn;
}

/// Starts a call (of user code) for input `index` (-1: the whole batch or the module's set-up).
function startCall(index) {
  currentIndex = index;
  sequence = (sequence + 1) | 0 || 1;
  control[1] = index;
  control[0] = sequence;
  hooksBeforeCall = currentHooks();
}

function endCall() {
  control[0] = 0;
  currentIndex = -1;
}

/// Evaluates a fresh instance of the modules, as a call of its own (module code is user code,
/// under the time limit). False when it failed: every input from the cursor on has its error.
function evaluateModules() {
  startCall(-1);
  instantiating = true;
  let failure = "";
  try {
    entry = instantiate();
  } catch (e) {
    entry = null;
    failure = describeError(e);
  }
  instantiating = false;
  if (refusedSequence === sequence) {
    refusedSequence = 0;
    entry = null;
    endCall();
    failRemaining("memory_limit", memoryMessage);
    return false;
  }
  if (entry === null) {
    endCall();
    failRemaining("exception", failure);
    return false;
  }
  hooksAtSetUp = currentHooks();
  endCall();
  return true;
}

/// Fails every input from the cursor on (invalid inputs keep their own error).
function failRemaining(kind, message) {
  for (let i = cursor; i < items.length; i++) {
    const error = items[i].error;
    if (error !== undefined) pushError(i, "invalid_input", error);
    else pushError(i, kind, message);
  }
  cursor = items.length;
}
