# ---- Batches ------------------------------------------------------------------------------
class _Batch:
    """One batch. Items are lists [message, metadata, nested keys of metadata or None]; an
    invalid item is [None, error message, error kind]. Results are collected as string pieces, each
    record ending in the record separator, and joined once.

    Everything user code made or touched is held by this object only (the module instance, the
    entry point, the events, the builtins) and dropped in release(), under the limits: no user
    object is ever freed — and no finaliser run — by the driver outside a call."""

    def __init__(self, transformation, text, count, credentials_json, time_limit_ns, memory_budget):
        self.transformation = transformation
        self.text = text
        self.count = count
        self.credentials = _loads(credentials_json) if credentials_json else {}
        self.event_credentials = self.credentials.pop("\u0000", None) or {}
        self.time_limit_ns = time_limit_ns
        self.memory_budget = memory_budget
        self.out = []
        self.logs = []
        self.current = -1
        self.current_message = None
        self.items = []
        self.by_message_id = None
        self.determinism = None
        self.fixed_modules = {}
        self.fetch_mocks = None
        self.unmocked = []
        self.progress_interval_ns = 0
        self.measures_times = False  # `T<index>␟<nanoseconds>` records: each call's time (sluice bench)
        self.entry = None
        self.builtins = None
        self.modules = None
        self.batch_events = None
        self.used = set()  # names of the views of allowed modules user code got
        self.printed = []  # what was printed since the last complete line
        self.logged = 0  # characters of log text logged (JSON-escaped), see _LOG_LIMIT
        self.integers = {}  # integers past the digit limit read from the input: {id: (value, text)}

    # -- host functions visible to user code --------------------------------------------------

    def log(self, *args):
        if self.logged > _LOG_LIMIT:
            return
        parts = []
        for value in args:
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, BaseException):
                parts.append(_describe(value, self.transformation.files))
            else:
                try:
                    parts.append(_encode_any(value))
                except Exception:
                    parts.append(str(value))
        self.log_text(" ".join(parts))

    def log_text(self, text):
        """One log line of the call running now; past _LOG_LIMIT characters in the batch, one
        line saying so and nothing more."""
        if self.logged > _LOG_LIMIT:
            return
        line = _encode(text)
        self.logged += len(line)
        if self.logged > _LOG_LIMIT:
            line = _encode(_LOG_LIMIT_LINE)
        message_id = ""
        message = self.current_message
        if message is not None and isinstance(message.get("messageId"), str):
            message_id = _encode(message["messageId"])
        self.logs += ("L", str(self.current), _US, line, _US, message_id, _RS)

    def print_text(self, text):
        """What print() (or the standard library) wrote to standard output or error: each
        complete line is a log line of the call that wrote its end."""
        if self.logged > _LOG_LIMIT:
            return
        if "\n" not in text:
            if text:
                self.printed.append(text)
            return
        self.printed.append(text)
        lines = "".join(self.printed).split("\n")
        tail = lines.pop()  # what follows the last newline: the start of the next line
        self.printed = [tail] if tail else []
        for line in lines:
            self.log_text(line)

    def flush_printed(self):
        """A line printed without its end, logged when the call that printed it ends."""
        if self.printed:
            text = "".join(self.printed)
            self.printed = []
            self.log_text(text)

    # fetch and fetchV2 answered from mocks (test runs); the real ones come with the sandbox.
    def mocked_response(self, url):
        key = str(url)
        if self.fetch_mocks is not None and key in self.fetch_mocks:
            return self.fetch_mocks[key]
        self.unmocked += ("F", str(self.current), _US, _encode("GET " + key), _RS)
        return None

    def host_request(self, url, options):
        """The host's answer to a real request: {url, status, headers, body} or {error, kind}.
        The time spent waiting counts against the call's time limit."""
        options = options if isinstance(options, dict) else {}
        method = str(options.get("method", "GET"))
        headers = options.get("headers")
        header_text = "".join(f"{name}{_US}{value}{_RS}" for name, value in headers.items()) if isinstance(headers, dict) else ""
        body = options.get("body")
        if body is not None and not isinstance(body, str):
            body = _encode(body)
        return _loads(_host_fetch(self.current, str(url), method, header_text, body))

    def fetch(self, url, options=None):
        """The parsed body of a 2xx response, or "ERROR" (never raises)."""
        if self.fetch_mocks is None:
            try:
                response = self.host_request(url, options)
                if response.get("kind") == "unavailable":
                    # For the run's report (`sluice run` without --fetch-mocks or --allow-net).
                    self.unmocked += ("F", str(self.current), _US, _encode("GET " + str(url)), _RS)
                if "error" in response or not 200 <= response["status"] < 300:
                    return "ERROR"
                return _loads(response["body"])
            except ValueError:
                return "ERROR"
        response = self.mocked_response(url)
        if not isinstance(response, dict):
            return "ERROR"
        status = response.get("status", 200)
        return _loads(_encode(response.get("body"))) if 200 <= status < 300 else "ERROR"

    def fetch_v2(self, url=None, options=None):
        """{url, status, headers, body}; raises ConnectionError on a network or policy failure,
        with rudder-transformer's text."""
        if url is None:
            raise ConnectionError("fetch url is required")
        if self.fetch_mocks is None:
            response = self.host_request(url, options)
            if "error" in response:
                raise ConnectionError(response["error"])
            body = response["body"]
            try:
                body = _loads(body)
            except ValueError:
                pass
            return {"url": response["url"], "status": response["status"], "headers": response["headers"], "body": body}
        response = self.mocked_response(url)
        if not isinstance(response, dict):
            raise ConnectionError(f"fetchV2: no mock for GET {url}")
        return {"url": str(url), "status": response.get("status", 200), "headers": response.get("headers", {}),
                "body": _loads(_encode(response.get("body")))}

    def geolocation(self, ip=None):
        """The geolocation service's JSON for `ip`, as rudder-transformer's geolocation: raises
        ValueError for a missing or invalid address and ConnectionError when the lookup fails
        (with rudder's texts); test runs answer from the mock keyed "/geoip/<ip>"."""
        if not ip:
            raise ValueError("ip address is required")
        address = str(ip)
        mocked = self.fetch_mocks is not None
        answer = _loads(_host_fetch(self.current, address, "GEOLOCATION-CHECK" if mocked else "GEOLOCATION", "", None))
        if "error" in answer:
            raise (ValueError if answer.get("kind") == "invalid" else ConnectionError)(answer["error"])
        if mocked:
            response = self.mocked_response("/geoip/" + address)
            if not isinstance(response, dict):
                raise ConnectionError(f"geolocation: no mock for GET /geoip/{address}")
            status = response.get("status", 200)
            if status != 200:
                raise ConnectionError(f"request to fetch geolocation failed with status code: {status}")
            return _loads(_encode(response.get("body")))
        try:
            return _loads(answer["body"])
        except ValueError as error:
            raise ConnectionError(f"invalid json response body at {answer['url']} reason: {error}") from None

    def get_credential(self, key=None, *ignored):
        # As rudder-transformer's getCredential: no key, None or a key that is not a string is a
        # TypeError with its text; extra arguments are ignored.
        if type(key) is not str:
            raise TypeError("Key should be valid and defined")
        # An event that carries its own credentials reads only those; the others the request's.
        own = self.event_credentials.get(str(self.current)) if self.current >= 0 else None
        if own is not None:
            return own.get(key)
        return self.credentials.get(key)

    def metadata(self, event):
        """The metadata of `event`, as a copy: what user code does to it cannot change what later
        calls see."""
        if event is self.current_message:
            return _copy_metadata(self.items[self.current])
        if not isinstance(event, dict):
            return {}
        message_id = event.get("messageId")
        if message_id is None:
            return {}
        # The usual call: the metadata of the event being transformed.
        current = self.current_message
        if current is not None and current.get("messageId") == message_id:
            return _copy_metadata(self.items[self.current])
        if self.by_message_id is None:
            self.by_message_id = {}
            for item in self.items:
                if item[0] is not None:
                    try:
                        self.by_message_id.setdefault(item[0].get("messageId"), item)
                    except TypeError:
                        pass
        try:
            item = self.by_message_id.get(message_id)
        except TypeError:
            return {}
        return {} if item is None else _copy_metadata(item)

    def importer(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            raise ImportError("relative imports are not supported in transformations")
        if name in self.transformation.libraries:
            return self.load_library(name)
        if name in ALLOWED_MODULES:
            self.used.update(_views_reachable(name.partition(".")[0]))
            if self.determinism is not None and name in _FIXED_MODULES:
                module = self.fixed_modules.get(name)
                if module is None:
                    module = self.fixed_modules[name] = _fixed_module(name, self.determinism, self.fixed_modules)
                return module
            return _view(name if fromlist else name.partition(".")[0])
        if name in _INTERNAL_MODULES and name in sys.modules:
            # Imported by an allowed module's C code (time.strptime); C reads the module from
            # sys.modules, not from what this returns.
            return _view(name)
        if name.partition(".")[0] in sys.stdlib_module_names:
            raise ImportError(f"import of '{name}' is not allowed in transformations")
        raise ModuleNotFoundError(f"No module named '{name}'")

    # -- module instances ---------------------------------------------------------------------

    def make_builtins(self):
        namespace = _USER_BUILTINS.copy()
        namespace["__import__"] = self.importer
        namespace["log"] = self.log
        namespace["getCredential"] = self.get_credential
        namespace["fetch"] = self.fetch
        namespace["fetchV2"] = self.fetch_v2
        namespace["geolocation"] = self.geolocation
        return namespace

    def load_library(self, name):
        module = self.modules.get(name)
        if module is None:
            file_name, code = self.transformation.libraries[name]
            module = types.ModuleType(name)
            module.__dict__["__builtins__"] = self.builtins
            module.__dict__["__file__"] = file_name
            self.modules[name] = module
            _real_exec(code, module.__dict__)
        return module

    def instantiate(self):
        """Evaluates the transformation's module (and, on import, its libraries) afresh; sets
        self.entry. Runs inside a call, so the instance it replaces is released under the
        limits too."""
        self.entry = None
        self.builtins = self.make_builtins()
        self.modules = {}
        namespace = {"__name__": "transformation", "__builtins__": self.builtins, "__file__": self.transformation.file_name}
        _real_exec(self.transformation.code, namespace)
        entry = namespace.get(self.transformation.entry)
        if not callable(entry):
            raise TypeError(f"{self.transformation.entry} is not a function")
        self.entry = entry

    def reinstantiate(self):
        """After a memory limit hit: a fresh instance, the old one's memory collected now."""
        self.entry = self.builtins = self.modules = None
        gc.collect(1)
        self.instantiate()

    # -- records ------------------------------------------------------------------------------

    def error(self, index, kind, message, letter="E"):
        """An error record; letter "B": a failure of the whole transformBatch call."""
        self.out += (letter, str(index), _US, kind, _US, _encode(message), _RS)

    def dropped(self, index):
        self.out += ("D", str(index), _RS)

    def fail(self, index, failure, letter="E"):
        kind, message = failure
        if kind == "time_limit":
            message = f"time limit of {self.time_limit_ns // 1_000_000} ms exceeded"
        elif kind == "memory_limit":
            message = f"memory limit of {self.memory_budget >> 20} MB exceeded"
        self.error(index, kind, message, letter)

    # -- calls --------------------------------------------------------------------------------

    def guarded(self, index, function, *arguments):
        """Runs function(*arguments) — the user's code and everything that can call back into it,
        such as serialising what it returned — under the time and memory limits. Returns None,
        or the failure (kind, message)."""
        _enter(self.time_limit_ns, self.memory_budget, index)
        try:
            try:
                function(*arguments)
                return None
            except TimeLimitExceeded:
                return ("time_limit", None)
            except MemoryError as error:
                if _memory_exceeded():
                    return ("memory_limit", None)
                return ("exception", self.describe(error))
            except BaseException as error:
                # Its text is the user's code too (__str__): still inside the call's limits.
                return ("exception", self.describe(error))
        except TimeLimitExceeded:
            # The deadline's signal, pending since the user's code ran, is handled at the first
            # call the handlers above make (_memory_exceeded, describe): the call is still armed,
            # so it raises in this frame. The call ran out of time all the same.
            return ("time_limit", None)
        finally:
            try:
                self.flush_printed_within_limits()
            except TimeLimitExceeded:
                # Raised in this frame once the flush returned (the deadline's signal is handled
                # at the next call): what it could not log is dropped, the outcome stands.
                pass
            finally:
                _leave()

    def flush_printed_within_limits(self):
        """flush_printed while the call's limits still hold; a line that cannot be logged within
        them is dropped."""
        try:
            self.flush_printed()
        except BaseException:
            self.printed = []

    def describe(self, error):
        """The error's text, or a placeholder when producing it fails or is stopped."""
        try:
            return _describe(error, self.transformation.files)
        except BaseException:
            return f"{_type_name(type(error))}: (its message could not be produced)"

    def load(self, first=0, evaluate=None):
        """Evaluates the modules (self.entry); on failure every input from `first` on gets the
        error. Returns whether there is an entry point."""
        failure = self.guarded(-1, evaluate or self.instantiate)
        if failure:
            for index in range(first, len(self.items)):
                item = self.items[index]
                if item[0] is None:
                    self.error(index, item[2], item[1])
                else:
                    self.fail(index, failure)
            return False
        return True

    def run(self):
        # Event data has no reference cycles: reference counting frees it, and the cycle
        # collector would only rescan the batch's live dicts over and over. It runs at the end of
        # the batch instead, in release() (the memory limit bounds what a batch can pile up).
        gc.disable()
        _active_batch[0] = self
        # print() and the standard library's own printing become log lines: nothing user code
        # writes reaches the process's standard output (a command's NDJSON) or error.
        sys.stdout = sys.stderr = _PRINTED
        try:
            self.parse()
            if self.load():
                if self.transformation.is_batch:
                    self.run_batch()
                else:
                    self.run_events()
        finally:
            self.release()
            self.restore_shared_state()
            sys.stdout, sys.stderr = _REAL_STDOUT, _REAL_STDERR
            _active_batch[0] = None
            gc.enable()
        # After the release: what finalisers logged belongs to this batch.
        return "".join(self.logs) + "".join(self.unmocked) + "".join(self.out)

    def parse(self):
        """The items of the batch's text (a method of its own: no frame that outlives the batch
        holds an event)."""
        for index, part in enumerate(self.text.split(_RS) if self.count else ()):
            try:
                value = _loads(part)
            except RecursionError:
                value = self.parse_slowly(index, part)
            except ValueError as error:
                value = self.parse_slowly(index, part) if _is_digit_limit(error) else _Invalid(f"invalid JSON: {error}")
            self.items.append(value.item if type(value) is _Invalid else _classify(value))
        self.text = None

    def parse_slowly(self, index, part):
        """_loads_slowly under the input's limits (converting a large integer takes time)."""
        _enter(self.time_limit_ns, self.memory_budget, index)
        try:
            try:
                return _loads_slowly(part, self.integers)
            except MemoryError:
                if _memory_exceeded():
                    return _Invalid(f"memory limit of {self.memory_budget >> 20} MB exceeded", "memory_limit")
                return _Invalid("invalid JSON: out of memory")
            except (ValueError, RecursionError) as error:
                return _Invalid(f"invalid JSON: {error}")
        except TimeLimitExceeded:
            # Also when the deadline's pending signal is handled inside a handler above (guarded).
            return _Invalid(f"time limit of {self.time_limit_ns // 1_000_000} ms exceeded", "time_limit")
        finally:
            _leave()

    def release(self):
        """Drops everything of the batch that user code made or could reach, resets the shared
        state no fingerprint sees (_reset_hidden_state) and collects the garbage, under the call
        limits: finalisers (__del__, a generator's finally, a weakref callback) run now and are
        stopped at the limit, never later in the driver or in another batch."""
        self.collect_under_limits(self.drop_references)

    def drop_references(self):
        self.entry = self.builtins = self.modules = self.batch_events = None
        self.items = self.by_message_id = self.current_message = self.fixed_modules = self.integers = None
        _reset_hidden_state(_shared_state.scope(self.used)[1])

    def collect_under_limits(self, drop):
        _enter_release(self.time_limit_ns, self.memory_budget)
        try:
            drop()
            gc.collect(1)
        except BaseException:
            gc.collect(1)
        finally:
            self.flush_printed_within_limits()
            _leave()

    def restore_shared_state(self):
        """Puts back what the batch changed of the state all transformations share (see
        _SharedState; release() reset the rest), releasing what that drops under the batch's
        limits. A finaliser that
        changes the state again is undone in the next round; after three rounds what would be
        finalised is kept instead, never finalised, and the process reports the change (a worker
        is then replaced)."""
        for round in range(4):
            removed = []
            if not _shared_state.restore(self.used, removed):
                return
            if round < 3:
                self.collect_under_limits(removed.clear)
            else:
                _never_finalised.append(removed)
                _shared_state.unrestorable = "finalisers kept changing the state every transformation shares"

    def run_events(self):
        out = self.out
        items = self.items
        interval = self.progress_interval_ns
        last_progress = _monotonic_ns()
        for index in range(len(items)):
            if interval and _monotonic_ns() - last_progress >= interval:
                # A long batch hands what has finished to the host between calls.
                _host_progress("".join(self.logs) + "".join(self.unmocked) + "".join(out))
                self.logs.clear()
                self.unmocked.clear()
                out.clear()
                last_progress = _monotonic_ns()
            item = items[index]
            message = item[0]
            if message is None:
                self.error(index, item[2], item[1])
                continue
            self.current = index
            self.current_message = message
            mark = len(out)
            started = _monotonic_ns() if self.measures_times else 0
            failure = self.guarded(index, self.call_event, index)
            elapsed = _monotonic_ns() - started if started else 0
            self.current = -1
            self.current_message = None
            if failure is not None:
                del out[mark:]
            if started:
                out += ("T", str(index), _US, str(elapsed), _RS)
            if failure is not None:
                self.fail(index, failure)
                if failure[0] == "memory_limit":
                    # Release what the module instance holds: evaluate it afresh.
                    if not self.load(index + 1, self.reinstantiate):
                        return

    def call_event(self, index):
        result = self.entry(self.current_message, self.metadata)
        if type(result) is _CoroutineType:
            result = _drive(result)
        if type(result) is dict:
            try:
                text = _output(result)
            except (TypeError, ValueError, RecursionError) as error:
                self.error(index, "unserializable_result", f"{type(error).__name__}: {error}")
                return
            self.out += ("O", str(index), _US, text, _RS)
            return
        if result is None:
            self.dropped(index)
            return
        if isinstance(result, list):
            if not all(isinstance(element, dict) for element in result):
                self.error(index, "invalid_result", "returned event in events array from transformEvent(event) is not an object")
                return
            texts = []
            for element in result:
                try:
                    texts.append(_output(element))
                except (TypeError, ValueError, RecursionError) as error:
                    self.error(index, "unserializable_result", f"{type(error).__name__}: {error}")
                    return
            if not texts:
                self.dropped(index)
                return
            for text in texts:
                self.out += ("O", str(index), _US, text, _RS)
            return
        if isinstance(result, dict):
            try:
                text = _output(result)
            except (TypeError, ValueError, RecursionError) as error:
                self.error(index, "unserializable_result", f"{type(error).__name__}: {error}")
                return
            self.out += ("O", str(index), _US, text, _RS)
            return
        self.error(index, "invalid_result", "returned event from transformEvent(event) is not an object")

    def run_batch(self):
        self.batch_events = []
        for index, item in enumerate(self.items):
            if item[0] is None:
                self.error(index, item[2], item[1])
            else:
                self.batch_events.append(item[0])
        if not self.batch_events:
            return
        mark = len(self.out)
        started = _monotonic_ns() if self.measures_times else 0
        failure = self.guarded(-1, self.call_batch)
        elapsed = _monotonic_ns() - started if started else 0
        if failure:
            del self.out[mark:]
        if started:
            self.out += ("T", "-1", _US, str(elapsed), _RS)
        if failure:
            letter = "B" if failure[0] == "exception" else "E"
            for index, item in enumerate(self.items):
                if item[0] is not None:
                    self.fail(index, failure, letter)

    def call_batch(self):
        result = self.entry(self.batch_events, self.metadata)
        if type(result) is _CoroutineType:
            result = _drive(result)
        if not isinstance(result, list):
            for index, item in enumerate(self.items):
                if item[0] is not None:
                    self.error(index, "invalid_result", "returned events from transformBatch(event) is not an array", "B")
            return
        produced = set()
        index_of = None
        for element in result:
            if not isinstance(element, dict):
                self.error(-1, "invalid_result", "returned event in events array from transformBatch(events) is not an object")
                continue
            try:
                text = _output(element)
            except (TypeError, ValueError, RecursionError) as error:
                self.error(-1, "unserializable_result", f"{type(error).__name__}: {error}")
                continue
            if index_of is None:
                index_of = {}
                for position, item in enumerate(self.items):
                    if item[0] is not None:
                        try:
                            index_of.setdefault(item[0].get("messageId"), position)
                        except TypeError:
                            pass
            message_id = element.get("messageId")
            try:
                index = index_of.get(message_id, -1) if message_id is not None else -1
            except TypeError:
                index = -1
            if index >= 0:
                produced.add(index)
            self.out += ("O", str(index), _US, text, _RS)
        for index, item in enumerate(self.items):
            if index not in produced and item[0] is not None:
                self.dropped(index)


# Characters of log text one batch may log (JSON-escaped): past it, lines are dropped and one
# line says so, so logging can never outgrow the worker's channel (the JavaScript driver's too).
_LOG_LIMIT = 16 << 20
_LOG_LIMIT_LINE = "log output past 16 MB in this batch was dropped"


class _PrintedOutput:
    """sys.stdout and sys.stderr while a batch runs: what is written goes to the batch running
    now (_Batch.print_text). It holds nothing itself — the batch is looked up at each write — so
    user code that reached it would reach no batch."""
    __slots__ = ()

    encoding = "utf-8"
    errors = "strict"

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {_type_name(type(text))}")
        text = _as_str(text)  # an exact str: a subclass's methods are the user's
        batch = _active_batch[0]
        if batch is not None:
            batch.print_text(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True


_PRINTED = _PrintedOutput()
_REAL_STDOUT = sys.stdout
_REAL_STDERR = sys.stderr


_CONTAINER_TYPES = frozenset((dict, list))


def _copy_json(value):
    """A deep copy of a parsed JSON value (iterative: metadata may nest 10,000 levels)."""
    if type(value) is not dict and type(value) is not list:
        return value
    root = value.copy()
    stack = [root]
    while stack:
        container = stack.pop()
        for key, item in (container.items() if type(container) is dict else enumerate(container)):
            if type(item) is dict or type(item) is list:
                container[key] = copy = item.copy()
                stack.append(copy)
    return root


def _copy_metadata(item):
    """A copy of an item's metadata for user code. Metadata is the driver's (parsed from the
    input, never handed out itself), so exact types tell its containers; the keys holding nested
    ones are found once per item."""
    metadata = item[1]
    nested = item[2]
    if nested is None:
        nested = item[2] = () if _CONTAINER_TYPES.isdisjoint(map(type, metadata.values())) else tuple(
            key for key, value in metadata.items() if type(value) is dict or type(value) is list)
    copy = metadata.copy()
    for key in nested:
        copy[key] = _copy_json(copy[key])
    return copy


class _Invalid:
    """An input the engine could not read: its item, [None, message, kind]."""
    __slots__ = ("item",)

    def __init__(self, message, kind="invalid_input"):
        self.item = [None, message, kind]


def _classify(value):
    if type(value) is not dict:
        kind = "null" if value is None else "an array" if isinstance(value, list) else type(value).__name__
        return [None, f"invalid event: expected a JSON object, got {kind}", "invalid_input"]
    message = value.get("message")
    if type(message) is dict and _ENVELOPE_KEYS.issuperset(value):
        metadata = value.get("metadata")
        if metadata is None:
            return [message, {}, None]
        if type(metadata) is not dict:
            return [None, "invalid envelope: metadata must be an object", "invalid_input"]
        return [message, metadata, None]
    message_id = value.get("messageId")
    return [value, {"messageId": message_id} if isinstance(message_id, str) else {}, None]


def _drive(coroutine):
    """Runs a coroutine that awaits nothing asynchronous (there is no event loop)."""
    try:
        while True:
            coroutine.send(None)
    except StopIteration as stop:
        return stop.value


def _describe(error, files):
    name = type(error).__name__
    message = str(error)
    head = f"{name}: {message}" if message else name
    # Lines come from the transformation's own sources, not linecache (shared by every
    # transformation of the process, and file names repeat).
    summary = traceback.StackSummary.extract(traceback.walk_tb(error.__traceback__), lookup_lines=False)
    frames = [frame for frame in summary if frame.filename in files]
    lines = [head]
    previous, repeated = None, 0
    for frame in frames:
        key = (frame.filename, frame.lineno, frame.name)
        if key == previous:
            repeated += 1
            if repeated >= 3:
                continue
        else:
            if repeated >= 3:
                lines.append(f"  [Previous line repeated {repeated - 2} more times]")
            previous, repeated = key, 1
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        source = files[frame.filename]
        if frame.lineno and 0 < frame.lineno <= len(source) and source[frame.lineno - 1].strip():
            lines.append(f"    {source[frame.lineno - 1].strip()}")
    if repeated >= 3:
        lines.append(f"  [Previous line repeated {repeated - 2} more times]")
    return "\n".join(lines)
