# ---- Restrictions -------------------------------------------------------------------------
# What user code may not reach, checked when it is compiled (with file:line:col) and, where a
# name is only known at run time, when it runs. A guard rail for honest code and a first wall
# for hostile code; the boundary is the worker process (seccomp).

# Attribute names that lead out of the sandbox: from any object to every class
# (__subclasses__, via __mro__/__bases__), to the globals of the functions that made it (the
# driver's, a standard-library module's, with the real builtins), to code objects (run with
# globals of one's choosing), to frames (and their globals) through generators, coroutines and
# tracebacks, to the instance behind a bound host function (__self__, __reduce__), or around
# these checks (__getattribute__, __getattr__).
REFUSED_ATTRIBUTES = frozenset((
    "__subclasses__", "__mro__", "__bases__", "__base__", "mro",
    "__globals__", "__builtins__", "__code__", "__closure__", "cell_contents", "__defaults__", "__kwdefaults__",
    "__func__", "__self__", "__reduce__", "__reduce_ex__", "__weakref__", "__loader__", "__spec__",
    "__getattribute__", "__getattr__",
    "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace",
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next",
))
# Names user code may not use at all: the real builtins' module and loader behind these.
REFUSED_NAMES = frozenset(("__builtins__", "__loader__", "__spec__"))
# Helpers the compiled code calls for `x.__dict__` and `x.format` (see _Restrictions).
_HELPER_PREFIX = "__sluice"
_FORMAT_METHODS = ("format", "format_map")
_ATTRIBUTE_FUNCTIONS = ("getattr", "setattr", "delattr", "hasattr")
_SELF_MATCHING = frozenset(("bool", "bytearray", "bytes", "dict", "float", "frozenset", "int", "list", "set", "str", "tuple"))


class RestrictionError(PermissionError):
    """A refused name or form in user code, with its place."""


def _refusal(name):
    return f"access to '{name}' is not allowed in transformations"


def _format_fields_refused(text):
    """The first refused attribute a format string reaches in its fields ("{0.__globals__}",
    also in nested format specs), or None."""
    try:
        parsed = list(_string.formatter_parser(text))
    except (ValueError, TypeError):
        return None  # str.format will refuse it itself
    for _, field, spec, _ in parsed:
        if field:
            try:
                _, rest = _string.formatter_field_name_split(field)
                for is_attribute, key in rest:
                    if is_attribute and (key in REFUSED_ATTRIBUTES or key == "__dict__"):
                        return key
            except (ValueError, TypeError):
                return None
        if spec:
            found = _format_fields_refused(spec)
            if found:
                return found
    return None


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and type(node.value) is str else None


def _place(node, attribute=None):
    line, column = getattr(node, "lineno", 0), getattr(node, "col_offset", -1) + 1
    if attribute is not None and node.end_lineno == node.lineno:
        column = node.end_col_offset - len(attribute) + 1  # the attribute's name, not the whole expression
    return line, column


def _refused_name(name):
    return name in REFUSED_ATTRIBUTES or name.startswith(_HELPER_PREFIX)


def _check(tree, file_name):
    """Raises RestrictionError, with file:line:col, for the first form (in source order) that
    leads out of the sandbox. Returns whether the tree has forms only the running code can
    check (see _Rewriter)."""
    problems = []
    rewrite = False

    def refuse(node, message, attribute=None):
        problems.append((*_place(node, attribute), message))

    def identifier(node, name):
        # Defining or naming something __getattr__ or __globals__ reaches nothing: only reading
        # such attributes does.
        if name and (name in REFUSED_NAMES or name.startswith(_HELPER_PREFIX)):
            refuse(node, _refusal(name))

    def format_string(node, text):
        found = _format_fields_refused(text)
        if found:
            refuse(node, f"a format field reaching '{found}' is not allowed in transformations")

    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Attribute:
            name = node.attr
            if _refused_name(name):
                refuse(node, _refusal(name), name)
            elif name == "__dict__":
                if type(node.ctx) is not ast.Load:
                    refuse(node, "assigning or deleting '__dict__' is not allowed in transformations", name)
                rewrite = True
            elif name in _FORMAT_METHODS and type(node.ctx) is ast.Load:
                literal = _literal(node.value)
                if literal is None:
                    rewrite = True
                else:
                    format_string(node.value, literal)
        elif kind is ast.Name:
            identifier(node, node.id)
        elif kind is ast.Call:
            function = node.func
            name = function.id if type(function) is ast.Name else function.attr if type(function) is ast.Attribute else None
            if name in _ATTRIBUTE_FUNCTIONS and len(node.args) >= 2:
                literal = _literal(node.args[1])
                if literal is not None and literal in REFUSED_ATTRIBUTES:
                    refuse(node.args[1], _refusal(literal))
            elif name == "attrgetter" or name == "methodcaller":
                for argument in node.args[:1] if name == "methodcaller" else node.args:
                    for part in (_literal(argument) or "").split("."):
                        if part in REFUSED_ATTRIBUTES:
                            refuse(argument, _refusal(part))
            elif name in ("format", "vformat", "format_map") and node.args:
                literal = _literal(node.args[0])
                if literal is not None:
                    format_string(node.args[0], literal)
        elif kind is ast.arg:
            identifier(node, node.arg)
        elif kind is ast.keyword:
            identifier(node, node.arg)
        elif kind is ast.alias:
            identifier(node, node.asname or node.name.partition(".")[0])
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            identifier(node, node.name)
        elif kind is ast.Global or kind is ast.Nonlocal:
            for name in node.names:
                identifier(node, name)
        elif kind is ast.MatchAs or kind is ast.MatchStar:
            identifier(node, node.name)
        elif kind is ast.MatchMapping:
            identifier(node, node.rest)
        elif kind is ast.MatchClass:
            # Keyword patterns read attributes by name; positional ones read the names a class's
            # __match_args__ lists, which user code can choose (and a metaclass can make any
            # object "match" a class): positional patterns only for the built-in types that
            # match themselves.
            for name in node.kwd_attrs:
                if _refused_name(name):
                    refuse(node, _refusal(name))
            if node.patterns and not (type(node.cls) is ast.Name and node.cls.id in _SELF_MATCHING):
                refuse(node, "positional sub-patterns in a class pattern are only allowed for built-in types in transformations")
    if problems:
        line, column, message = min(problems)
        raise RestrictionError(f"{file_name}:{line}:{column}: {message}")
    return rewrite


class _Rewriter(ast.NodeTransformer):
    """Rewrites the two forms whose safety depends on a run-time value: `x.__dict__` (refused
    when x is a class: a class's namespace hands out raw descriptors such as
    type.__dict__['__subclasses__']) and `x.format` / `x.format_map` on a non-literal x
    (str.format walks attributes named in its fields)."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        name = node.attr
        if type(node.ctx) is not ast.Load:
            return node
        if name == "__dict__":
            return ast.copy_location(ast.Call(ast.Name("__sluice_dict__", ast.Load()), [node.value], []), node)
        if name in _FORMAT_METHODS and _literal(node.value) is None:
            return ast.copy_location(ast.Call(ast.Name("__sluice_format__", ast.Load()), [node.value, ast.Constant(name)], []), node)
        return node


def restricted_tree(tree, file_name):
    """The tree checked (RestrictionError on a refusal) and with the run-time forms rewritten;
    ready to compile."""
    if _check(tree, file_name):
        tree = ast.fix_missing_locations(_Rewriter().visit(tree))
    return tree


# -- run-time checks --------------------------------------------------------------------------

_real_getattr = getattr
_real_setattr = setattr
_real_delattr = delattr
_str_format = str.format
_str_format_map = str.format_map
_BuiltinMethod = type("".format)
_as_str = str.__str__  # an exact str with the same text, for a str subclass


def _attribute_name(name):
    if not isinstance(name, str):
        raise TypeError(f"attribute name must be string, not '{type(name).__name__}'")
    name = _as_str(name)
    if name in REFUSED_ATTRIBUTES or name.startswith(_HELPER_PREFIX):
        raise PermissionError(_refusal(name))
    return name


def _dict_of(value):
    """`value.__dict__`, unless value is a class (its namespace holds raw descriptors)."""
    if issubclass(type(value), type):
        raise PermissionError("reading a class's '__dict__' is not allowed in transformations")
    return _real_getattr(value, "__dict__")


def _checked_format(text):
    text = _as_str(text)
    found = _format_fields_refused(text)
    if found:
        raise PermissionError(f"a format field reaching '{found}' is not allowed in transformations")
    return text


def _format(text, /, *arguments, **keywords):
    return _str_format(_checked_format(text), *arguments, **keywords)


def _format_map(text, mapping, /):
    return _str_format_map(_checked_format(text), mapping)


def _safe_attribute(value):
    """`value` as user code may have it: str.format and str.format_map, bound or not, are
    replaced by versions that check the format string's fields first."""
    if value is _str_format:
        return _format
    if value is _str_format_map:
        return _format_map
    if type(value) is _BuiltinMethod and value.__name__ in _FORMAT_METHODS and isinstance(value.__self__, str):
        text = value.__self__
        if value.__name__ == "format":
            return lambda *arguments, **keywords: _format(text, *arguments, **keywords)
        return lambda mapping: _format_map(text, mapping)
    return value


def _format_method(value, name):
    """`value.format` / `value.format_map` for compiled user code."""
    return _safe_attribute(_real_getattr(value, name))


def _guarded_getattr(value, name, *default):
    name = _attribute_name(name)
    if name == "__dict__":
        return _dict_of(value)
    return _safe_attribute(_real_getattr(value, name, *default))


def _guarded_setattr(value, name, attribute):
    name = _attribute_name(name)
    if name == "__dict__":
        raise PermissionError("assigning or deleting '__dict__' is not allowed in transformations")
    _real_setattr(value, name, attribute)


def _guarded_delattr(value, name):
    name = _attribute_name(name)
    if name == "__dict__":
        raise PermissionError("assigning or deleting '__dict__' is not allowed in transformations")
    _real_delattr(value, name)


def _guarded_hasattr(value, name):
    name = _attribute_name(name)
    try:
        _real_getattr(value, name)
        return True
    except AttributeError:
        return False


GUARDED_BUILTINS = {
    "getattr": _guarded_getattr, "setattr": _guarded_setattr, "delattr": _guarded_delattr, "hasattr": _guarded_hasattr,
    "__sluice_dict__": _dict_of, "__sluice_format__": _format_method,
}

# The builtins user code gets (a copy per batch, plus the host functions): the real ones without
# their module's loader and spec (importers that load any module), the refused functions
# replaced, the checked ones added.
_USER_BUILTINS = {key: value for key, value in _builtins.__dict__.items() if key not in ("__loader__", "__spec__")}
_USER_BUILTINS.update(_REFUSED_FUNCTIONS)
_USER_BUILTINS.update(GUARDED_BUILTINS)


# -- strings the standard library compiles during a batch -------------------------------------
# dataclasses and collections.namedtuple build source text (field names come from the user's
# class), typing evaluates string annotations (the user's text). The real builtins' compile,
# exec and eval are replaced, for the whole process, by versions that — while a batch runs —
# apply the same restrictions to that text and give the code the batch's builtins, never the
# real ones, and never a module's real namespace.

_real_eval = _builtins.eval
_real_exec = _builtins.exec
_real_compile = _builtins.compile
_active_batch = [None]  # the batch running now (a holder: the driver's namespace stays unchanged)
_checked_code_cache = {}
_module_namespaces = [0, {}]  # len(sys.modules) when built, {id(namespace): module name}


def _batch_builtins():
    batch = _active_batch[0]
    return batch.builtins if batch is not None and batch.builtins is not None else {}


def _checked_code(source, file_name, mode, flags=0, dont_inherit=False, optimize=-1):
    """`source` (text or AST) compiled with the restrictions applied; code objects pass."""
    if isinstance(source, types.CodeType):
        return source
    key = None
    if isinstance(source, (str, bytes)):
        key = (source, file_name, mode, flags)
        code = _checked_code_cache.get(key)
        if code is not None:
            return code
        tree = _real_compile(source, file_name, mode, flags | ast.PyCF_ONLY_AST, dont_inherit, optimize)
    else:
        tree = source
    code = _real_compile(restricted_tree(tree, file_name), file_name, mode, flags & ~ast.PyCF_ONLY_AST, dont_inherit, optimize)
    if key is not None:
        if len(_checked_code_cache) >= 512:
            _checked_code_cache.clear()
        _checked_code_cache[key] = code
    return code


def _safe_namespace(namespace):
    """The globals for code the standard library runs during a batch: never a module's real
    namespace (a view's copy instead), and the batch's builtins."""
    if _module_namespaces[0] != len(sys.modules):
        _module_namespaces[1] = {id(module.__dict__): name for name, module in list(sys.modules.items()) if module is not None}
        _module_namespaces[0] = len(sys.modules)
    name = _module_namespaces[1].get(id(namespace))
    builtins = _batch_builtins()
    if name is not None:
        safe = dict(_view(name).__dict__) if _viewable(name) else {}
        safe["__builtins__"] = builtins
        return safe
    current = namespace.get("__builtins__", _EMPTY)
    if current is _EMPTY:
        namespace["__builtins__"] = builtins
    elif current is _builtins or current is _builtins.__dict__:
        namespace = dict(namespace)
        namespace["__builtins__"] = builtins
    return namespace


def _safe_locals(namespace):
    """Locals given as a module's real namespace are replaced like globals (_safe_namespace)."""
    if namespace is None or not isinstance(namespace, dict) or id(namespace) not in _module_namespaces[1]:
        return namespace
    return _safe_namespace(namespace)


def _caller_namespaces(globals, locals):
    if globals is None:
        frame = sys._getframe(2)
        globals = frame.f_globals
        if locals is None:
            locals = frame.f_locals
    return globals, locals


# The import system compiles and runs module files (a codec imported on first use during a
# batch): not text from user code.
_IMPORT_SYSTEM = frozenset(("importlib._bootstrap", "importlib._bootstrap_external"))


def _checked(depth):
    """Whether the compile/exec/eval called from the frame `depth` levels up is checked: while
    a batch runs, unless the import system calls."""
    return _active_batch[0] is not None and sys._getframe(depth).f_globals.get("__name__") not in _IMPORT_SYSTEM


def _stdlib_eval(source, globals=None, locals=None, /):
    globals, locals = _caller_namespaces(globals, locals)
    if not _checked(2):
        return _real_eval(source, globals, locals)
    if isinstance(source, str):
        source = source.lstrip(" \t")
    return _real_eval(_checked_code(source, "<string>", "eval"), _safe_namespace(globals), _safe_locals(locals))


def _stdlib_exec(source, globals=None, locals=None, /, *, closure=None):
    globals, locals = _caller_namespaces(globals, locals)
    if not _checked(2):
        return _real_exec(source, globals, locals, closure=closure)
    return _real_exec(_checked_code(source, "<string>", "exec"), _safe_namespace(globals), _safe_locals(locals), closure=closure)


def _stdlib_compile(source, filename, mode, flags=0, dont_inherit=False, optimize=-1, *, _feature_version=-1):
    if flags & ast.PyCF_ONLY_AST or not _checked(2):
        return _real_compile(source, filename, mode, flags, dont_inherit, optimize, _feature_version=_feature_version)
    return _checked_code(source, filename, mode, flags, dont_inherit, optimize)


_builtins.eval = _stdlib_eval
_builtins.exec = _stdlib_exec
_builtins.compile = _stdlib_compile
