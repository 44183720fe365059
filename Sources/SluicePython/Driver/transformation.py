# ---- Transformations: analysis and compilation --------------------------------------------
def _import_names(tree):
    """Top-level module names imported anywhere in the tree, in order."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.append(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.append("." * node.level + (node.module or ""))
            else:
                names.append(node.module)
    seen = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def _entry_points(tree):
    found = []
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        for name in targets:
            if name in ("transformEvent", "transformBatch") and name not in found:
                found.append(name)
    return found


def analyze(file_name, code):
    """JSON: {"error": "..."} or {"imports": [{"name", "kind"}], "entries": [...]}.
    kind is "allowed" (safe standard library), "refused" (other standard library or relative)
    or "other" (a library, or missing)."""
    try:
        tree = ast.parse(code, filename=file_name)
    except SyntaxError as error:
        where = f"{file_name}, line {error.lineno}"
        if error.offset:
            where += f", column {error.offset}"
        return _encode({"error": f"{type(error).__name__}: {error.msg} ({where})"})
    except ValueError as error:
        return _encode({"error": f"SyntaxError: {error} ({file_name})"})
    try:
        _check(tree, file_name)
    except RestrictionError as error:
        return _encode({"error": str(error)})
    imports = []
    for name in _import_names(tree):
        if name.startswith("."):
            kind = "relative"
        elif name in ALLOWED_MODULES:
            kind = "allowed"
        elif name.partition(".")[0] in sys.stdlib_module_names or name in sys.builtin_module_names:
            kind = "refused"
        else:
            kind = "other"
        imports.append({"name": name, "kind": kind})
    return _encode({"imports": imports, "entries": _entry_points(tree)})


class Transformation:
    """A compiled transformation: code objects for it and its libraries, evaluated afresh for
    every batch."""

    def __init__(self, spec):
        self.libraries = {}
        self.files = {}  # file name -> source lines, for tracebacks
        trees = {}  # module name (None: the transformation) -> (file name, tree), for the import check
        for module in spec["libraries"]:
            code, tree = self._compile(module["fileName"], module["code"])
            self.libraries[module["name"]] = (module["fileName"], code)
            trees[module["name"]] = (module["fileName"], tree)
        self.file_name = spec["fileName"]
        self.code, tree = self._compile(self.file_name, spec["code"])
        trees[None] = (self.file_name, tree)
        _check_imported_names(trees)
        self.entry = spec["entry"]
        self.is_batch = self.entry == "transformBatch"

    def _compile(self, file_name, code):
        """The code object of a module, and its tree."""
        if file_name == _DRIVER_FILE:
            raise ValueError(f"{file_name} is the engine's own file name")
        self.files[file_name] = code.splitlines()
        tree = _real_compile(code, file_name, "exec", ast.PyCF_ONLY_AST, True)
        if _check(tree, file_name):
            return _real_compile(ast.fix_missing_locations(_Rewriter().visit(tree)), file_name, "exec", dont_inherit=True), tree
        return _real_compile(code, file_name, "exec", dont_inherit=True), tree  # from the text: faster than from the tree

    # -- one batch ---------------------------------------------------------------------------

    def run(self, text, count, credentials_json, time_limit_ns, memory_budget, determinism_json="", mocks_json="",
            progress_interval_ns=0, measures_times=False):
        batch = _Batch(self, text, count, credentials_json, time_limit_ns, memory_budget)
        batch.progress_interval_ns = progress_interval_ns
        batch.measures_times = measures_times
        if determinism_json:
            batch.determinism = _loads(determinism_json)
        if mocks_json:
            batch.fetch_mocks = _loads(mocks_json)
        return batch.run()


def build(spec_json):
    return Transformation(_loads(spec_json))


# -- names imported from libraries ------------------------------------------------------------
# `from hashing import nope` fails the compile, as a JavaScript import of a name the library does
# not export does — not every event at run time. A library's names are found in its tree: what
# its top level binds (in any branch), what `global` declares, what it star-imports. A module
# whose names cannot be known (a module-level __getattr__, a star import of something unknown)
# accepts every name, and so does an import inside a `try` that catches ImportError.

_IMPORT_ERROR_NAMES = frozenset(("ImportError", "ModuleNotFoundError", "Exception", "BaseException"))


def _catches_import_error(handler_type):
    if handler_type is None:
        return True
    names = handler_type.elts if type(handler_type) is ast.Tuple else (handler_type,)
    return any(type(name) is ast.Name and name.id in _IMPORT_ERROR_NAMES for name in names)


def _top_level_names(tree):
    """(names the module's top level binds, whether it defines __getattr__, the modules it
    star-imports — None for a relative one)."""
    names = set()
    dynamic = False
    stars = []
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            names.add(node.name)
            dynamic = dynamic or (node.name == "__getattr__" and kind is not ast.ClassDef)
            continue  # their bodies are scopes of their own
        if kind is ast.Lambda:
            continue
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:
                names.add(node.id)
        elif kind is ast.Import:
            names.update(alias.asname or alias.name.partition(".")[0] for alias in node.names)
        elif kind is ast.ImportFrom:
            for alias in node.names:
                if alias.name == "*":
                    stars.append(None if node.level else node.module)
                else:
                    names.add(alias.asname or alias.name)
        elif kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
            if node.name:
                names.add(node.name)
        elif kind is ast.MatchMapping:
            if node.rest:
                names.add(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    for node in ast.walk(tree):
        if type(node) is ast.Global:
            names.update(node.names)
    return names, dynamic, stars


def _library_names(name, trees, known):
    """The names library `name` defines — its own and those of every module it star-imports,
    transitively — or None when they cannot be known."""
    if name in known:
        return known[name]
    result = set()
    pending = [name]
    seen = {name}
    while pending and result is not None:
        names, dynamic, stars = _top_level_names(trees[pending.pop()][1])
        result = None if dynamic else result | names
        for star in stars:
            if result is None:
                break
            if star in trees:
                if star not in seen:
                    seen.add(star)
                    pending.append(star)
            elif star in ALLOWED_MODULES:
                result |= set(_view(star).__dict__)
            else:
                result = None
    known[name] = result
    return result


def _library_imports(tree):
    """The `from <module> import <names>` statements of a tree that no `try` catching
    ImportError surrounds."""
    found = []
    stack = [(tree, False)]
    while stack:
        node, guarded = stack.pop()
        kind = type(node)
        if kind is ast.ImportFrom:
            if not guarded and not node.level:
                found.append(node)
            continue
        if kind is ast.Try or kind is ast.TryStar:
            catches = any(_catches_import_error(handler.type) for handler in node.handlers)
            stack.extend((child, guarded or catches) for child in node.body)
            stack.extend((child, guarded) for child in node.handlers + node.orelse + node.finalbody)
            continue
        stack.extend((child, guarded) for child in ast.iter_child_nodes(node))
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


def _check_imported_names(trees):
    """Raises ImportError for the first name a module imports from a library that the library
    does not define: `cannot import name 'nope' from 'hashing' (transform.py, line 1; …)`."""
    known = {}
    for module, (file_name, tree) in trees.items():
        for node in _library_imports(tree):
            if node.module not in trees or node.module is None:
                continue
            names = _library_names(node.module, trees, known)
            if names is None:
                continue
            for alias in node.names:
                wanted = alias.name
                if wanted == "*" or wanted in names or (wanted.startswith("__") and wanted.endswith("__")):
                    continue
                library_file = trees[node.module][0]
                close = _difflib.get_close_matches(wanted, sorted(name for name in names if not name.startswith("_")), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ImportError(f"cannot import name '{wanted}' from '{node.module}' ({file_name}, line {node.lineno}: "
                                  f"{library_file} defines no '{wanted}'{hint})")
