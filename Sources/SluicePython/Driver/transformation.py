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
        for module in spec["libraries"]:
            self.libraries[module["name"]] = (module["fileName"], self._compile(module["fileName"], module["code"]))
        self.file_name = spec["fileName"]
        self.code = self._compile(self.file_name, spec["code"])
        self.entry = spec["entry"]
        self.is_batch = self.entry == "transformBatch"

    def _compile(self, file_name, code):
        if file_name == _DRIVER_FILE:
            raise ValueError(f"{file_name} is the engine's own file name")
        self.files[file_name] = code.splitlines()
        tree = _real_compile(code, file_name, "exec", ast.PyCF_ONLY_AST, True)
        if _check(tree, file_name):
            return _real_compile(ast.fix_missing_locations(_Rewriter().visit(tree)), file_name, "exec", dont_inherit=True)
        return _real_compile(code, file_name, "exec", dont_inherit=True)  # from the text: faster than from the tree

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
