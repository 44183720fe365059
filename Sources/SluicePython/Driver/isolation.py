# ---- Isolation ----------------------------------------------------------------------------
# One interpreter serves every transformation of a process, so the standard-library modules are
# shared. Tenants cannot see each other through them:
# - user code never gets a module itself but a view: a module object with the module's public
#   names (internals, modules outside the allowlist and loaders left out, a few functions
#   replaced by checked versions); what a batch assigns to or deletes from a view is put back
#   after the batch;
# - everything reachable from the modules — their namespaces, classes, functions, instances,
#   containers and caches — is recorded once (_SharedState.take) and, after every batch,
#   compared by fingerprint (in C, ~µs per thousand objects) and what changed is put back;
# - state kept where no fingerprint sees it is reset explicitly (_reset_hidden_state): the
#   random generator, decimal contexts, ABC registries, zoneinfo's and struct's caches, the
#   locale.

_EMPTY = object()  # no value (an empty cell or slot, a missing key)
_HEAP_TYPE = 1 << 9
_CellType = types.CellType
_LruCacheWrapper = type(functools.lru_cache()(lambda: None))
_MemberDescriptor = types.MemberDescriptorType
_type_setattr = type.__setattr__
_type_delattr = type.__delattr__
_object_setattr = object.__setattr__
_object_delattr = object.__delattr__
_object_getattr = object.__getattribute__
_state_fingerprints = _host["state_fingerprints"]
_state_changed = _host["state_changed"]
_state_refresh = _host["state_refresh"]
_function_namespaces = _host["function_namespaces"]
# Objects that cannot change (or only through what they reference, which is walked).
_IMMUTABLE_LEAVES = frozenset((str, bytes, int, float, complex, bool, type(None), type(...), type(NotImplemented),
                               types.CodeType, range, slice, types.GetSetDescriptorType, types.MemberDescriptorType,
                               types.WrapperDescriptorType, types.MethodDescriptorType, types.ClassMethodDescriptorType,
                               types.MethodWrapperType))
_STATELESS_WRAPPERS = frozenset((types.MethodType, types.BuiltinMethodType, property, classmethod, staticmethod,
                                 types.MappingProxyType))
# Modules whose state is the process's, not the tenants': user code reaches none of it (it gets
# a copy of the builtins' namespace; the standard library's compile/exec/eval never get the
# real one during a batch).
_UNTRACKED_MODULES = frozenset(("sys", "gc", "signal", "_signal", "__main__", "_abc", "warnings", "_warnings", "builtins"))


def _cell_filled(cell):
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


def _function_state(function):
    namespace, annotations = _function_namespaces(function)
    return (function.__code__, function.__defaults__, function.__kwdefaults__, namespace, annotations,
            function.__name__, function.__qualname__, function.__module__, function.__doc__)


def _instance_state(value):
    cls = type(value)
    try:
        namespace = _object_getattr(value, "__dict__")
    except AttributeError:
        namespace = None
    slots = {}
    for base in cls.__mro__:
        for name, member in base.__dict__.items():
            if type(member) is _MemberDescriptor and name not in slots:
                try:
                    slots[name] = member.__get__(value, cls)
                except AttributeError:
                    slots[name] = _EMPTY
    return cls, namespace if type(namespace) is dict else None, slots


def _describe_object(value):
    kind = type(value)
    name = getattr(value, "__qualname__", None) if isinstance(value, (type, types.FunctionType)) else None
    return f"{kind.__module__}.{kind.__qualname__}" + (f" {name}" if isinstance(name, str) else "")


def _abc_cache_token():
    return _abc.get_cache_token()


def _abc_registry(cls):
    registry = _abc._get_dump(cls)[0]
    return {reference() for reference in registry} - {None}


# Names of a module's namespace a view keeps besides the public ones (a module's own
# __getattr__ serves names such as zoneinfo.TZPATH).
_VIEW_DUNDERS = frozenset(("__name__", "__doc__", "__all__", "__file__", "__version__", "__package__", "__getattr__", "__dir__"))


def _viewable(name):
    """Whether user code may see module `name`: an allowed module or a public submodule of one
    (json.decoder, html.entities)."""
    if name in ALLOWED_MODULES:
        return True
    parts = name.split(".")
    return parts[0] in ALLOWED_MODULES and not any(part.startswith("_") for part in parts)


def _refused_function(description):
    def refused(*arguments, **keywords):
        raise PermissionError(f"{description} is not available in transformations")
    refused.__name__ = description.partition("(")[0].rpartition(".")[2]
    return refused


# Builtins for the standard-library functions a view rebuilds (functools.update_wrapper,
# string.Formatter): their getattr and setattr take names from the caller, so they get the
# checked ones.
_CHECKED_STDLIB_BUILTINS = dict(_builtins.__dict__)
_CHECKED_STDLIB_BUILTINS.update(getattr=_guarded_getattr, setattr=_guarded_setattr, delattr=_guarded_delattr,
                                hasattr=_guarded_hasattr)


def _rebuilt(function, module, replacements=None):
    """A copy of a standard-library function whose builtins are _CHECKED_STDLIB_BUILTINS."""
    namespace = dict(module.__dict__)
    namespace["__builtins__"] = _CHECKED_STDLIB_BUILTINS
    namespace.update(replacements or {})
    copy = types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__doc__ = function.__doc__
    return copy


def _rebuilt_class(cls, module):
    """A copy of a pure-Python standard-library class (not a subclass: super() cannot reach the
    original's methods) whose methods are _rebuilt."""
    namespace = {}
    for key, value in cls.__dict__.items():
        if key in ("__dict__", "__weakref__"):
            continue
        namespace[key] = _rebuilt(value, module) if type(value) is types.FunctionType else value
    return type(cls.__name__, (object,), namespace)


class _AttributeGetter:
    """operator.attrgetter with every attribute name checked when it is read."""
    __slots__ = ("_paths",)

    def __init__(self, attribute, *attributes):
        paths = []
        for name in (attribute, *attributes):
            if not isinstance(name, str):
                raise TypeError("attribute name must be a string")
            paths.append(tuple(_attribute_name(part) for part in _as_str(name).split(".")))
        self._paths = tuple(paths)

    def __call__(self, value, /):
        found = []
        for path in self._paths:
            item = value
            for name in path:
                item = _guarded_getattr(item, name)
            found.append(item)
        return found[0] if len(found) == 1 else tuple(found)

    def __repr__(self):
        return f"operator.attrgetter({', '.join(repr('.'.join(path)) for path in self._paths)})"


class _MethodCaller:
    """operator.methodcaller with the method's name checked when it is read."""
    __slots__ = ("_name", "_arguments", "_keywords")

    def __init__(self, name, /, *arguments, **keywords):
        if not isinstance(name, str):
            raise TypeError("method name must be a string")
        self._name = _attribute_name(name)
        self._arguments = arguments
        self._keywords = keywords

    def __call__(self, value, /):
        return _guarded_getattr(value, self._name)(*self._arguments, **self._keywords)

    def __repr__(self):
        return f"operator.methodcaller({self._name!r})"


_AttributeGetter.__name__ = _AttributeGetter.__qualname__ = "attrgetter"
_AttributeGetter.__module__ = "operator"
_MethodCaller.__name__ = _MethodCaller.__qualname__ = "methodcaller"
_MethodCaller.__module__ = "operator"


def _view_replacements(name, module):
    """Names of a module a view replaces: functions that read attributes by a name the caller
    gives, and the few that write outside the caller's objects or to the process."""
    if name == "operator":
        return {"attrgetter": _AttributeGetter, "methodcaller": _MethodCaller}
    if name == "functools":
        update_wrapper = _rebuilt(module.update_wrapper, module)
        return {"update_wrapper": update_wrapper, "wraps": _rebuilt(module.wraps, module, {"update_wrapper": update_wrapper})}
    if name == "string":
        return {"Formatter": _rebuilt_class(module.Formatter, module)}
    if name == "zoneinfo":
        return {"reset_tzpath": _refused_function("zoneinfo.reset_tzpath()")}
    if name == "enum":
        # Writes an enum's members into the namespace of the module its __module__ names.
        return {"global_enum": _refused_function("enum.global_enum()")}
    if name == "calendar":
        return {"main": _refused_function("calendar.main()")}
    if name == "base64":
        return {"main": _refused_function("base64.main()"), "test": _refused_function("base64.test()")}
    return {}


_views = {}
_reachable_views = {}


def _views_reachable(name):
    """The names of the views user code reaches from module `name`'s view (itself and the
    modules it holds, transitively)."""
    found = _reachable_views.get(name)
    if found is None:
        found = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(value.__name__ for value in _view(current).__dict__.values() if isinstance(value, types.ModuleType))
        found = _reachable_views[name] = frozenset(found)
    return found


def _view(name):
    """The view of module `name` user code gets (made once; see _SharedState for how it is put
    back after a batch)."""
    view = _views.get(name)
    if view is not None:
        return view
    module = sys.modules.get(name) or _real_import(name, fromlist=("_",))
    view = types.ModuleType(name)
    _views[name] = view  # before the values: submodules may refer back
    namespace = view.__dict__
    namespace.clear()
    for key, value in module.__dict__.items():
        if key.startswith("_") and key not in _VIEW_DUNDERS:
            continue
        if isinstance(value, types.ModuleType):
            if not _viewable(value.__name__):
                continue
            value = _view(value.__name__)
        namespace[key] = value
    namespace.update(_view_replacements(name, module))
    if _shared_state.objects:
        _shared_state.add(name, [view], public=True)
    return view


class _SharedState:
    """What user code could change of the state every transformation shares, and how to put it
    back. take() records everything reachable from the loaded modules and the views, and which
    of it each module reaches (its own objects, and the modules it uses); restore() compares the
    fingerprints of what the modules a batch used reach, and puts back what differs."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.objects = []
        self.saved = []
        self.fingerprints = bytearray()
        self.position_of = {}  # id(object) -> its position in objects
        self.abc_classes = []
        self.abc_registries = []
        self.abc_token = None
        self.module_count = 0
        self.modules = set()
        self.reached = {}  # owner (a module name, or _ALWAYS) -> positions of what it reaches
        self.public = {}  # owner -> positions of what its view reaches (what user code can touch)
        self.uses = {}  # owner -> names of the modules its objects use
        self.scopes = {}  # frozenset of the modules a batch used -> positions to compare (int32 bytes)
        self.namespaces = {}  # id(a module's namespace) -> the module's name
        self.unrestorable = ""

    # -- recording ---------------------------------------------------------------------------

    def take(self):
        """Records, afresh, every module loaded now, every view and what they reach."""
        self.reset()
        self.add_new_modules()
        for name, view in _views.items():
            self.walk(name, [view], public=True)
        self.walk(_ALWAYS, [*_ALWAYS_REACHABLE(), *_USER_BUILTINS.values()], public=True)
        self.abc_token = _abc_cache_token()

    def add_new_modules(self):
        """Records the modules loaded since the last call (their state is as they left it)."""
        names = [name for name in list(sys.modules) if name not in self.modules]
        self.modules.update(names)
        self.module_count = len(sys.modules)
        modules = [(name, sys.modules.get(name)) for name in names if name not in _UNTRACKED_MODULES]
        for name, module in modules:
            if module is not None:
                self.namespaces[id(module.__dict__)] = name
        for name, module in modules:
            if module is not None:
                self.walk(name, [module])

    def add(self, owner, roots, public=False):
        self.walk(owner, roots, public)

    def walk(self, owner, stack, public=False):
        """Records what `stack` reaches as `owner`'s (as what user code can touch when `public`:
        the roots are a view): new objects are tracked (with their state now); other modules
        met on the way are not walked into, but noted as used by `owner` (a module object, a
        function's globals, a class's module, a module a function imports in its body)."""
        reached = (self.public if public else self.reached).setdefault(owner, set())
        uses = self.uses.setdefault(owner, set())
        seen = set()
        first = len(self.objects)
        while stack:
            value = stack.pop()
            identity = id(value)
            if identity in seen:
                continue
            seen.add(identity)
            kind = type(value)
            if kind in _IMMUTABLE_LEAVES:
                continue
            if kind is tuple or kind is frozenset:
                stack.extend(value)
                continue
            if isinstance(value, types.ModuleType):
                if value.__name__ in _UNTRACKED_MODULES:
                    continue
                namespace = value.__dict__
                module = self.namespaces.get(id(namespace), value.__name__)  # a view: its module's name
                if module != owner:
                    uses.add(module)
                    continue
                self.reach(reached, namespace, lambda: ("dict", dict(namespace)))
                stack.extend(namespace.values())
                continue
            if isinstance(value, dict):
                self.reach(reached, value, lambda: ("dict", dict(value)))
                stack.extend(value.values())
                stack.extend(value.keys())
                if kind is not dict:
                    stack.append(kind)
                    stack.extend(gc.get_referents(value))
                continue
            if kind is list:
                self.reach(reached, value, lambda: ("list", list(value)))
                stack.extend(value)
                continue
            if kind is set:
                self.reach(reached, value, lambda: ("set", set(value)))
                stack.extend(value)
                continue
            if kind is bytearray:
                self.reach(reached, value, lambda: ("bytearray", bytes(value)))
                continue
            if kind is types.FunctionType:
                state = _function_state(value)
                self.reach(reached, value, lambda: ("function", state))
                stack.extend(item for item in (state[3], value.__defaults__, value.__kwdefaults__, state[4]) if item is not None)
                stack.extend(value.__closure__ or ())
                module = self.namespaces.get(id(value.__globals__))
                if module is not None and module != owner:
                    uses.add(module)
                uses.update(_modules_imported(value.__code__))
                continue
            if kind is _CellType:
                filled = _cell_filled(value)
                self.reach(reached, value, lambda: ("cell", value.cell_contents if filled else _EMPTY))
                if filled:
                    stack.append(value.cell_contents)
                continue
            if isinstance(value, type):
                module = value.__dict__.get("__module__") or type.__dict__["__module__"].__get__(value)
                if module != owner and module in sys.modules:
                    uses.add(module)
                if not value.__flags__ & _HEAP_TYPE:
                    continue  # built-in classes cannot be changed
                if self.reach(reached, value, lambda: ("type", (dict(value.__dict__), value.__bases__, type(value)))) and "_abc_impl" in value.__dict__:
                    self.abc_classes.append(value)
                    self.abc_registries.append(_abc_registry(value))
                stack.append(type(value))
                stack.extend(value.__dict__.values())
                continue
            if kind is _LruCacheWrapper:
                for item in gc.get_referents(value):
                    if type(item) is dict:
                        seen.add(id(item))
                        self.reach(reached, item, lambda: ("lru", value))
                    else:
                        stack.append(item)
                if value.__dict__ is not None:
                    stack.append(value.__dict__)
                continue
            if kind is functools.partial:
                self.reach(reached, value, lambda: ("partial", value.__reduce__()[2]))
                stack.extend(gc.get_referents(value))
                continue
            if kind in _STATELESS_WRAPPERS:
                stack.extend(gc.get_referents(value))
                continue
            if kind.__flags__ & _HEAP_TYPE:
                self.reach(reached, value, lambda: ("instance", _instance_state(value)))
                stack.append(kind)
                stack.extend(gc.get_referents(value))
                continue
            # Other built-in objects: immutable, or with state reset explicitly (see
            # _reset_hidden_state); what they reference is walked.
            stack.extend(gc.get_referents(value))
        if len(self.objects) > first:
            self.fingerprints += _state_fingerprints(self.objects[first:])
        self.scopes.clear()

    def reach(self, reached, value, state):
        """Notes that the owner reaches `value`; tracks it if it is new. Returns whether it was."""
        position = self.position_of.get(id(value))
        new = position is None
        if new:
            position = self.position_of[id(value)] = len(self.objects)
            self.objects.append(value)
            self.saved.append(state())
        reached.add(position)
        return new

    def scope(self, used):
        """For a batch that used the modules `used`: the positions of what it could have changed
        — what those modules and the modules they use (transitively) reach, and what any code
        reaches (builtins, the driver's classes and functions user code gets) — and the names of
        those modules."""
        key = frozenset(used)
        scope = self.scopes.get(key)
        if scope is None:
            owners = set()
            stack = [_ALWAYS, *used]
            while stack:
                owner = stack.pop()
                if owner not in owners:
                    owners.add(owner)
                    stack.extend(self.uses.get(owner, ()))
            # Functions only where user code can reach them: the modules' own code changes their
            # namespaces, containers, classes and instances, never their functions.
            found = set()
            saved = self.saved
            for owner in owners:
                found.update(self.public.get(owner, ()))
                found.update(position for position in self.reached.get(owner, ()) if saved[position][0] != "function")
            # In address order: the comparison reads them in memory order.
            ordered = sorted(found, key=lambda position: id(self.objects[position]))
            scope = self.scopes[key] = (_array.array("i", ordered).tobytes(), frozenset(owners))
        return scope

    # -- putting back ------------------------------------------------------------------------

    def restore(self, used, removed):
        """Puts back what changed since take() of what the modules `used` reach; appends what
        it dropped to `removed` (to be released under the batch's limits). Returns whether
        anything changed. Records what could not be put back in self.unrestorable."""
        if len(sys.modules) != self.module_count:
            # Imported during the batch by the standard library itself (a codec, a lazy
            # import): recorded as loaded.
            self.add_new_modules()
        restored = self.restore_abc_registries()
        positions = self.scope(used)[0]
        changed = _state_changed(self.objects, self.fingerprints, positions)
        if not changed:
            return restored
        # Classes first: putting back an instance may use its class's methods (OrderedDict).
        changed.sort(key=lambda position: self.saved[position][0] != "type")
        problems = []
        for position in changed:
            value = self.objects[position]
            kind, saved = self.saved[position]
            try:
                _RESTORERS[kind](self, position, value, saved, removed)
            except Exception as error:
                problems.append(f"{_describe_object(value)} ({type(error).__name__}: {error})")
        _state_refresh(self.objects, self.fingerprints, _array.array("i", changed).tobytes())
        if problems:
            self.unrestorable = "could not put back " + "; ".join(problems[:3])
        return True

    def restore_abc_registries(self):
        """ABCMeta.register() (collections.abc.Mapping.register(list)) changes a registry only
        C can see; the ABC cache token tells that one was made."""
        if _abc_cache_token() == self.abc_token:
            return False
        for cls, registry in zip(self.abc_classes, self.abc_registries):
            if _abc_registry(cls) != registry:
                _abc._reset_registry(cls)
                for subclass in registry:
                    _abc._abc_register(cls, subclass)
        for cls in self.abc_classes:
            _abc._reset_caches(cls)  # answers cached for classes registered meanwhile
        self.abc_token = _abc_cache_token()
        return True


_ALWAYS = ""  # the owner of what any code reaches, imports or not


def _ALWAYS_REACHABLE():
    """Driver classes user code can reach without importing anything: the exceptions it raises."""
    return [TimeLimitExceeded, RestrictionError]


def _is_view(module):
    return _views.get(module.__name__) is module


_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def _modules_imported(code):
    """Names of the loaded modules a function's code (and the code nested in it) imports."""
    found = set()
    stack = [code]
    while stack:
        current = stack.pop()
        if _IMPORT_NAME in current.co_code:
            found.update(name for name in current.co_names if name in sys.modules)
        stack.extend(constant for constant in current.co_consts if type(constant) is types.CodeType)
    return found


def _restore_dict(state, index, value, saved, removed):
    validator = _VALIDATED_CACHES.get(id(value))
    if validator is not None:
        # A cache that only its module's code writes: keep what it added that is made only of
        # exact built-in types (no user code can run when it is searched), drop the rest.
        for key in [key for key in value if key not in saved]:
            entry = value[key]
            if not validator(key, entry):
                removed.append((key, value.pop(key)))
        state.saved[index] = ("dict", dict(value))
        return
    removed.append(dict(value))
    if type(value) is dict:
        value.clear()
        value.update(saved)
    else:
        type(value).clear(value)
        type(value).update(value, saved)


def _restore_list(state, index, value, saved, removed):
    removed.append(value[:])
    value[:] = saved


def _restore_set(state, index, value, saved, removed):
    removed.append(set(value))
    value.clear()
    value.update(saved)


def _restore_bytearray(state, index, value, saved, removed):
    value[:] = saved


def _restore_function(state, index, value, saved, removed):
    removed.append(_function_state(value))
    code, defaults, kwdefaults, namespace, annotations, name, qualname, module, doc = saved
    (value.__code__, value.__defaults__, value.__kwdefaults__, value.__name__, value.__qualname__, value.__module__,
     value.__doc__) = code, defaults, kwdefaults, name, qualname, module, doc
    # A namespace the function did not have is put back as an empty one (the same to any reader).
    value.__dict__ = {} if namespace is None else namespace
    value.__annotations__ = {} if annotations is None else annotations


def _restore_cell(state, index, value, saved, removed):
    if _cell_filled(value):
        removed.append(value.cell_contents)
    if saved is _EMPTY:
        del value.cell_contents
    else:
        value.cell_contents = saved


def _restore_type(state, index, value, saved, removed):
    namespace, bases, metaclass = saved
    current = value.__dict__
    removed.append(dict(current))
    if type(value) is not metaclass:
        _type_setattr(value, "__class__", metaclass)
    if value.__bases__ != bases:
        _type_setattr(value, "__bases__", bases)
    for key in [key for key in current if key not in namespace]:
        _type_delattr(value, key)
    for key, item in namespace.items():
        if current.get(key, _EMPTY) is not item:
            _type_setattr(value, key, item)


def _restore_instance(state, index, value, saved, removed):
    cls, namespace, slots = saved
    removed.append(_instance_state(value))
    if type(value) is not cls:
        _object_setattr(value, "__class__", cls)
    if namespace is not None and _object_getattr(value, "__dict__") is not namespace:
        _object_setattr(value, "__dict__", namespace)
    for name, item in slots.items():
        if item is _EMPTY:
            try:
                _object_delattr(value, name)
            except AttributeError:
                pass
        else:
            _object_setattr(value, name, item)


def _restore_lru(state, index, value, saved, removed):
    removed.append(dict(value))  # what clearing frees is released under the limits
    saved.cache_clear()


def _restore_partial(state, index, value, saved, removed):
    removed.append(value.__reduce__()[2])
    value.__setstate__(saved)


_RESTORERS = {"dict": _restore_dict, "list": _restore_list, "set": _restore_set, "bytearray": _restore_bytearray,
              "function": _restore_function, "cell": _restore_cell, "type": _restore_type, "instance": _restore_instance,
              "lru": _restore_lru, "partial": _restore_partial}


_shared_state = _SharedState()


def _pattern_cache_entry(key, entry):
    """re._cache: (type, pattern, flags) -> Pattern, all exact built-in types."""
    return (type(key) is tuple and len(key) == 3 and (key[0] is str or key[0] is bytes) and type(key[1]) is key[0]
            and type(key[2]) is int and type(entry) is _re.Pattern)


def _strptime_cache_entry(key, entry):
    """_strptime._regex_cache: format -> Pattern."""
    return type(key) is str and type(entry) is _re.Pattern


# Caches that keep what a batch added when it is made of exact built-in types: compiling a
# pattern costs far more than a batch's share of the other work (~0.4 ms for a small one), and
# only the module's own code writes them (user code cannot reach their namespaces).
_VALIDATED_CACHES = {}


def _record_validated_caches():
    _VALIDATED_CACHES.clear()
    _VALIDATED_CACHES[id(_re._cache)] = _pattern_cache_entry
    strptime = sys.modules.get("_strptime")
    if strptime is not None:
        _VALIDATED_CACHES[id(strptime._regex_cache)] = _strptime_cache_entry


_urandom = os.urandom
_random_instance = None
_decimal_context = None
_decimal_templates = ()
_zone_cache = None
_process_locale = None


def _record_hidden_state():
    """Notes the state _reset_hidden_state puts back, and the roots of what only C holds."""
    global _random_instance, _decimal_context, _decimal_templates, _zone_cache, _process_locale
    import decimal, random, weakref, zoneinfo
    _random_instance = random._inst
    _decimal_context = decimal.getcontext().copy()
    _decimal_templates = tuple((context, _context_state(context))
                               for context in (decimal.DefaultContext, decimal.BasicContext, decimal.ExtendedContext))
    _process_locale = _locale.setlocale(_locale.LC_ALL)
    # zoneinfo.ZoneInfo's cache of loaded zones: a WeakValueDictionary only its C code holds,
    # found through one zone it holds.
    try:
        utc = zoneinfo.ZoneInfo("UTC")
    except Exception:
        utc = None
    _zone_cache = next((item for item in gc.get_objects() if type(item) is weakref.WeakValueDictionary and utc is not None
                        and item.get("UTC") is utc), None)


def _context_state(context):
    return (context.prec, context.rounding, context.Emin, context.Emax, context.capitals, context.clamp,
            tuple(context.flags.items()), tuple(context.traps.items()))


def _put_back_context(context, state):
    (context.prec, context.rounding, context.Emin, context.Emax, context.capitals, context.clamp, flags, traps) = state
    for signal_class, value in flags:
        context.flags[signal_class] = value
    for signal_class, value in traps:
        context.traps[signal_class] = value


def _reset_hidden_state(used):
    """Puts back state no fingerprint sees, of the modules `used` (the names of the modules the
    batch could reach, see _SharedState.scope). What it drops may be user objects (a key of a
    cache): the caller runs it under the batch's limits."""
    if "random" in used:
        # The generator behind random.random() and friends: reseeded from the OS, so no tenant
        # can seed it (random.seed(42)) or learn its state for the next.
        _random_instance.seed(int.from_bytes(_urandom(16), "little"))
    if "decimal" in used or "_decimal" in used:
        # decimal's context of this thread (precision, rounding, flags) and the templates.
        decimal = sys.modules["decimal"]
        decimal.setcontext(_decimal_context.copy())
        for context, state in _decimal_templates:
            if _context_state(context) != state:
                _put_back_context(context, state)
    if "zoneinfo" in used:
        # Drops zones a batch loaded with a key of its own (a str subclass could run its code in
        # another batch's lookup); the fingerprints then put the cache of loaded zones back.
        sys.modules["zoneinfo"].ZoneInfo.clear_cache()
    if "struct" in used:
        _struct._clearcache()  # keyed by format objects the batch passed, str subclasses too
    if "calendar" in used and _locale.setlocale(_locale.LC_ALL) != _process_locale:
        _locale.setlocale(_locale.LC_ALL, _process_locale)


def shared_state_change():
    """What a batch changed of the state every transformation shares and could not be put back,
    as text, or "" (see _SharedState). A worker that reports something is replaced."""
    return _shared_state.unrestorable

# -- start-up ---------------------------------------------------------------------------------
# Every module user code may import, and the implementation modules they import lazily, are
# loaded now: loading one during a batch would change state of modules already recorded
# (registrations in collections.abc), which the batch's restore would then undo.
_INTERNAL_MODULES = frozenset(("_strptime",))


def _warm_lazy_module_state():
    """Runs, once, the allowed modules' functions that fill a module-level table on first use
    (urllib.parse's, base64's, uuid's node), so that every batch starts with them filled, as a
    worker that has served a batch would."""
    import base64, datetime, ipaddress, time, urllib.parse, uuid
    urllib.parse.unquote("%41")
    urllib.parse.unquote_to_bytes("%41")
    urllib.parse.quote("a b")
    for split in ("_splittype", "_splithost", "_splitport"):
        getattr(urllib.parse, split)("http://a:1/b")
    base64.b32decode(base64.b32encode(b"a"))
    base64.b32hexdecode(base64.b32hexencode(b"a"))
    base64.a85decode(base64.a85encode(b"a"))
    base64.b85decode(base64.b85encode(b"a"))
    format(ipaddress.ip_address("127.0.0.1"), "b")
    uuid.getnode()
    time.strptime("2000", "%Y")
    datetime.datetime.strptime("2000", "%Y")


def _load_shared_modules():
    for name in sorted(ALLOWED_MODULES | _INTERNAL_MODULES):
        _real_import(name)
    _warm_lazy_module_state()
    _record_hidden_state()
    _record_validated_caches()
    _shared_state.take()
    if _zone_cache is not None:
        _shared_state.add("zoneinfo", [_zone_cache])


_load_shared_modules()

# Everything loaded so far lives as long as the process: keep it out of the collector's scans.
gc.collect()
gc.freeze()
