import SluiceCore
import SluiceRuntime
import Testing

/// What user code may not reach, refused at compile time (with file:line:col) or, where only
/// the running code knows the name, when it runs — in-process, as `sluice run` and `sluice test`
/// run it. (The worker process and its seccomp filter are the real boundary; see SandboxTests.)
struct RefusedForm: Sendable, CustomTestStringConvertible {
    var name: String
    var code: String
    /// The compile error, or for a run-time refusal the start of the event's error.
    var message: String
    var testDescription: String { name }
}

let compileTimeRefusals: [RefusedForm] = [
    RefusedForm(name: "__subclasses__", code: "def transformEvent(e, m):\n    return {'n': len(object.__subclasses__())}\n",
                message: "transform.py:2:29: access to '__subclasses__' is not allowed in transformations"),
    RefusedForm(name: "__base__ (the usual way to object)", code: "def transformEvent(e, m):\n    return ().__class__.__base__\n",
                message: "transform.py:2:25: access to '__base__' is not allowed in transformations"),
    RefusedForm(name: "__mro__", code: "x = int.__mro__\n", message: "transform.py:1:9: access to '__mro__' is not allowed"),
    RefusedForm(name: "__bases__", code: "x = int.__bases__\n", message: "transform.py:1:9: access to '__bases__' is not allowed"),
    RefusedForm(name: "mro()", code: "x = int.mro()\n", message: "transform.py:1:9: access to 'mro' is not allowed"),
    RefusedForm(name: "__globals__", code: "def f():\n    pass\n\nx = f.__globals__\n", message: "transform.py:4:7: access to '__globals__' is not allowed"),
    RefusedForm(name: "__builtins__ as an attribute", code: "def f():\n    pass\n\nx = f.__builtins__\n", message: "transform.py:4:7: access to '__builtins__'"),
    RefusedForm(name: "__builtins__ as a name", code: "x = __builtins__\n", message: "transform.py:1:5: access to '__builtins__' is not allowed"),
    RefusedForm(name: "__loader__ (the builtin importer)", code: "x = __loader__.load_module('posix')\n", message: "transform.py:1:5: access to '__loader__'"),
    RefusedForm(name: "__spec__", code: "x = __spec__\n", message: "transform.py:1:5: access to '__spec__'"),
    RefusedForm(name: "__code__", code: "f = lambda: 0\nx = f.__code__\n", message: "transform.py:2:7: access to '__code__' is not allowed"),
    RefusedForm(name: "__closure__", code: "f = lambda: 0\nx = f.__closure__\n", message: "transform.py:2:7: access to '__closure__'"),
    RefusedForm(name: "__defaults__", code: "f = lambda a=1: 0\nx = f.__defaults__\n", message: "transform.py:2:7: access to '__defaults__'"),
    RefusedForm(name: "__func__", code: "class C:\n    def m(self):\n        pass\n\nx = C().m.__func__\n", message: "transform.py:5:11: access to '__func__'"),
    RefusedForm(name: "__self__ of a host function", code: "x = log.__self__\n", message: "transform.py:1:9: access to '__self__' is not allowed"),
    RefusedForm(name: "__reduce__", code: "x = log.__reduce__()\n", message: "transform.py:1:9: access to '__reduce__' is not allowed"),
    RefusedForm(name: "__reduce_ex__", code: "x = [].__reduce_ex__(4)\n", message: "transform.py:1:8: access to '__reduce_ex__'"),
    RefusedForm(name: "__getattribute__", code: "x = object.__getattribute__(len, 'x')\n", message: "transform.py:1:12: access to '__getattribute__'"),
    RefusedForm(name: "__getattr__ called", code: "import typing\nx = typing.List.__getattr__('x')\n", message: "transform.py:2:17: access to '__getattr__'"),
    RefusedForm(name: "__weakref__", code: "class C:\n    pass\n\nx = C().__weakref__\n", message: "transform.py:4:9: access to '__weakref__'"),
    RefusedForm(name: "tb_frame", code: "try:\n    1 / 0\nexcept Exception as error:\n    x = error.__traceback__.tb_frame\n",
                message: "transform.py:4:29: access to 'tb_frame' is not allowed"),
    RefusedForm(name: "tb_next", code: "try:\n    1 / 0\nexcept Exception as error:\n    x = error.__traceback__.tb_next\n", message: "access to 'tb_next'"),
    RefusedForm(name: "f_back", code: "def f(frame):\n    return frame.f_back\n", message: "transform.py:2:18: access to 'f_back' is not allowed"),
    RefusedForm(name: "f_globals", code: "def f(frame):\n    return frame.f_globals\n", message: "access to 'f_globals'"),
    RefusedForm(name: "f_locals", code: "def f(frame):\n    return frame.f_locals\n", message: "access to 'f_locals'"),
    RefusedForm(name: "f_builtins", code: "def f(frame):\n    return frame.f_builtins\n", message: "access to 'f_builtins'"),
    RefusedForm(name: "f_code", code: "def f(frame):\n    return frame.f_code\n", message: "access to 'f_code'"),
    RefusedForm(name: "gi_frame", code: "def g():\n    yield 1\n\nx = g().gi_frame\n", message: "transform.py:4:9: access to 'gi_frame' is not allowed"),
    RefusedForm(name: "gi_code", code: "def g():\n    yield 1\n\nx = g().gi_code\n", message: "access to 'gi_code'"),
    RefusedForm(name: "cr_frame", code: "async def c():\n    pass\n\nx = c().cr_frame\n", message: "access to 'cr_frame'"),
    RefusedForm(name: "cr_code", code: "async def c():\n    pass\n\nx = c().cr_code\n", message: "access to 'cr_code'"),
    RefusedForm(name: "ag_frame", code: "async def a():\n    yield 1\n\nx = a().ag_frame\n", message: "access to 'ag_frame'"),
    RefusedForm(name: "cell_contents", code: "def f(cell):\n    return cell.cell_contents\n", message: "access to 'cell_contents'"),
    RefusedForm(name: "getattr with a refused literal", code: "x = getattr(len, '__self__')\n", message: "transform.py:1:18: access to '__self__' is not allowed"),
    RefusedForm(name: "setattr with a refused literal", code: "f = lambda: 0\nsetattr(f, '__code__', None)\n", message: "transform.py:2:12: access to '__code__'"),
    RefusedForm(name: "hasattr with a refused literal", code: "x = hasattr(len, '__self__')\n", message: "access to '__self__'"),
    RefusedForm(name: "operator.attrgetter with a refused literal", code: "import operator\nx = operator.attrgetter('a.__globals__')\n",
                message: "transform.py:2:25: access to '__globals__'"),
    RefusedForm(name: "operator.methodcaller with a refused literal", code: "from operator import methodcaller\nx = methodcaller('__reduce__')\n",
                message: "access to '__reduce__'"),
    RefusedForm(name: "a literal format string walking to __globals__", code: "def f():\n    pass\n\nx = '{0.__globals__}'.format(f)\n",
                message: "transform.py:4:5: a format field reaching '__globals__' is not allowed in transformations"),
    RefusedForm(name: "a literal format string in a nested spec", code: "x = '{0:{1.__init__.__globals__}}'.format(1, 2)\n",
                message: "a format field reaching '__globals__'"),
    RefusedForm(name: "str.format with a literal", code: "x = str.format('{0.__self__}', len)\n", message: "a format field reaching '__self__'"),
    RefusedForm(name: "format_map with a literal", code: "x = '{a.__class__.__base__}'.format_map({'a': 1})\n", message: "a format field reaching '__base__'"),
    RefusedForm(name: "string.Formatter with a literal", code: "import string\nx = string.Formatter().format('{0.f_back}', 1)\n",
                message: "a format field reaching 'f_back'"),
    RefusedForm(name: "a class pattern's keyword reaching __self__", code: "match len:\n    case object(__self__=found):\n        pass\n",
                message: "transform.py:2:10: access to '__self__' is not allowed"),
    RefusedForm(name: "positional class patterns outside the built-in types",
                code: "class C:\n    __match_args__ = ('a',)\n\nmatch 1:\n    case C(x):\n        pass\n",
                message: "transform.py:5:10: positional sub-patterns in a class pattern are only allowed for built-in types"),
    RefusedForm(name: "assigning __dict__", code: "class C:\n    pass\n\nc = C()\nc.__dict__ = {}\n", message: "transform.py:5:3: assigning or deleting '__dict__'"),
    RefusedForm(name: "the engine's helper names", code: "x = __sluice_dict__\n", message: "access to '__sluice_dict__'"),
]

let runTimeRefusals: [RefusedForm] = [
    RefusedForm(name: "getattr with a computed name", code: "name = '__sel' + 'f__'\nreturn {'x': str(getattr(len, name))}",
                message: "PermissionError: access to '__self__' is not allowed in transformations"),
    RefusedForm(name: "getattr with a str subclass that lies about its hash", code: """
        class Name(str):
            def __hash__(self):
                return 1
            def __eq__(self, other):
                return False
        return {'x': str(getattr(len, Name('__self__')))}
        """, message: "PermissionError: access to '__self__'"),
    RefusedForm(name: "a class's __dict__ (raw descriptors such as __subclasses__)", code: "return {'x': str(type.__dict__['__subclass' + 'es__'](object))}",
                message: "PermissionError: reading a class's '__dict__' is not allowed in transformations"),
    RefusedForm(name: "getattr(cls, '__dict__')", code: "return {'x': str(getattr(int, '__dict__'))}", message: "PermissionError: reading a class's '__dict__'"),
    RefusedForm(name: "a computed format string", code: "text = '{0.__init__.__glob' + 'als__}'\nreturn {'x': text.format(lambda: 0)}",
                message: "PermissionError: a format field reaching '__globals__'"),
    RefusedForm(name: "str.format unbound", code: "text = '{0.__init__.__glob' + 'als__}'\nreturn {'x': str.format(text, lambda: 0)}",
                message: "PermissionError: a format field reaching '__globals__'"),
    RefusedForm(name: "format reached through super()",
                code: "class S(str):\n    pass\ntext = S('{0.__init__.__glob' + 'als__}')\nreturn {'x': super(S, text).format(lambda: 0)}",
                message: "PermissionError: a format field reaching '__globals__'"),
    RefusedForm(name: "format taken with getattr", code: "text = '{0.__init__.__glob' + 'als__}'\nreturn {'x': getattr(text, 'format')(lambda: 0)}",
                message: "PermissionError: a format field reaching '__globals__'"),
    RefusedForm(name: "format_map computed", code: "text = '{a.__init__.__glob' + 'als__}'\nreturn {'x': text.format_map({'a': lambda: 0})}",
                message: "PermissionError: a format field reaching '__globals__'"),
    RefusedForm(name: "string.Formatter computed (a copy that super() cannot get around)",
                code: "import string\ntext = '{0.__init__.__glob' + 'als__}'\nreturn {'x': string.Formatter().format(text, lambda: 0)}",
                message: "PermissionError: access to '__globals__' is not allowed"),
    RefusedForm(name: "operator.attrgetter computed", code: "import operator\nreturn {'x': str(operator.attrgetter('__sel' + 'f__')(len))}",
                message: "PermissionError: access to '__self__'"),
    RefusedForm(name: "operator.methodcaller computed", code: "import operator\nreturn {'x': str(operator.methodcaller('__redu' + 'ce__')(log))}",
                message: "PermissionError: access to '__reduce__'"),
    RefusedForm(name: "functools.update_wrapper copying a class's namespace", code: "import functools\nw = functools.update_wrapper(lambda: 0, type)\nreturn {'x': str(w)}",
                message: "PermissionError: reading a class's '__dict__'"),
    RefusedForm(name: "functools.update_wrapper with refused names",
                code: "import functools\nw = functools.update_wrapper(lambda: 0, log, assigned=('__se' + 'lf__',))\nreturn {'x': str(w)}",
                message: "PermissionError: access to '__self__'"),
    RefusedForm(name: "a string annotation evaluated by typing", code: """
        import typing
        class C:
            x: "().__class__.__base__"
        return {'x': str(typing.get_type_hints(C))}
        """, message: "RestrictionError: <string>:1:14: access to '__base__' is not allowed"),
    RefusedForm(name: "a string annotation that opens a file", code: """
        import typing
        class C:
            x: "open('/etc/hostname').read()"
        return {'x': str(typing.get_type_hints(C))}
        """, message: "PermissionError: open() is not available in transformations"),
    RefusedForm(name: "an annotation of a class claiming to be typing's", code: """
        import typing
        class C:
            __module__ = 'typing'
            x: "sys.modules"
        return {'x': str(typing.get_type_hints(C))}
        """, message: "NameError: name 'sys' is not defined"),
    RefusedForm(name: "a dataclass field name that injects code", code: """
        import dataclasses
        class C:
            __annotations__ = {"__class__.__base__": int}
        dataclasses.dataclass(C, init=False, eq=False)
        return {}
        """, message: "RestrictionError: <string>:3:78: access to '__base__' is not allowed"),
    RefusedForm(name: "typing.sys", code: "import typing\nreturn {'x': str(typing.sys.modules['os'])}", message: "AttributeError: module 'typing' has no attribute 'sys'"),
    RefusedForm(name: "dataclasses.builtins", code: "import dataclasses\nreturn {'x': str(dataclasses.builtins.open)}",
                message: "AttributeError: module 'dataclasses' has no attribute 'builtins'"),
    RefusedForm(name: "dataclasses.inspect (frames)", code: "import dataclasses\nreturn {'x': str(dataclasses.inspect.currentframe())}",
                message: "AttributeError: module 'dataclasses' has no attribute 'inspect'"),
    RefusedForm(name: "random._os", code: "import random\nreturn {'x': str(random._os.system)}", message: "AttributeError: module 'random' has no attribute '_os'"),
    RefusedForm(name: "uuid's command runner", code: "import uuid\nreturn {'x': uuid._get_command_stdout('id')}",
                message: "AttributeError: module 'uuid' has no attribute '_get_command_stdout'"),
    RefusedForm(name: "a module's loader", code: "import json\nreturn {'x': str(getattr(json, '__load' + 'er__'))}", message: "PermissionError: access to '__loader__'"),
    RefusedForm(name: "enum.global_enum (writes into another module's namespace)",
                code: "import enum\nclass E(enum.Enum):\n    __module__ = 'json'\n    A = 1\nenum.global_enum(E)\nreturn {}",
                message: "PermissionError: enum.global_enum() is not available in transformations"),
    RefusedForm(name: "zoneinfo.reset_tzpath", code: "import zoneinfo\nzoneinfo.reset_tzpath(['/etc'])\nreturn {}",
                message: "PermissionError: zoneinfo.reset_tzpath() is not available in transformations"),
    RefusedForm(name: "calendar.main (argv, stdout, the locale)", code: "import calendar\ncalendar.main(['calendar'])\nreturn {}",
                message: "PermissionError: calendar.main() is not available"),
    RefusedForm(name: "base64.main (reads files)", code: "import base64\nbase64.main()\nreturn {}", message: "PermissionError: base64.main() is not available"),
    RefusedForm(name: "vars()", code: "return {'x': str(vars(int))}", message: "PermissionError: vars() is not available in transformations"),
]

@Suite struct PythonRestrictions {
    @Test(arguments: compileTimeRefusals)
    func refusedWhenCompiledWithItsPlace(_ form: RefusedForm) {
        let message = pythonCompileError(form.code + "\ndef transformEvent(event, metadata):\n    return event\n")
        #expect(message?.contains(form.message) == true, "\(form.name): \(message ?? "compiled")")
    }

    @Test(arguments: runTimeRefusals)
    func refusedWhenItRuns(_ form: RefusedForm) throws {
        let body = form.code.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let lines = try pythonLines("def transformEvent(event, metadata):\n\(body)\n", ["{}"])
        #expect(lines.count == 1 && lines[0].hasPrefix("0 exception: ") && lines[0].contains(form.message), "\(form.name): \(lines)")
    }

    @Test func librariesAreHeldToTheSameRules() {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "sneaky", language: .python, fileName: "sneaky.py", code: "def frames(error):\n    return error.__traceback__.tb_frame\n"),
        ])
        let runtime = Runtime(libraries: libraries)
        #expect(pythonCompileError("import sneaky\n\ndef transformEvent(e, m):\n    return e\n", runtime: runtime)
            == "sneaky.py:2:32: access to 'tb_frame' is not allowed in transformations")
    }

    @Test func ordinaryCodeIsUnaffected() throws {
        let code = """
        import dataclasses, enum, functools, json, operator, string, typing
        from collections import namedtuple

        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int
            y: int = 0

        class Color(enum.Enum):
            RED = 1

        class Record:
            def __init__(self, **values):
                self.__dict__.update(values)

            def __getattr__(self, name):
                return "missing " + name

            def __str__(self):
                return f"{self.__class__.__name__}({self.__dict__})"

        Pair = namedtuple("Pair", "a b")

        def hinted(value: "int") -> "str":
            return str(value)

        def transformEvent(event, metadata):
            record = Record(a=1)
            field = "a"
            match event:
                case {"kind": str(kind)}:
                    matched = kind
                case _:
                    matched = None
            return {
                "point": dataclasses.asdict(Point(1)), "repr": repr(Point(2, 3)), "color": str(Color.RED),
                "record": str(record), "dynamic": getattr(record, field), "missing": record.other,
                "has": hasattr(record, "a"), "pair": Pair(1, 2)._asdict(), "hints": str(typing.get_type_hints(hinted)),
                "format": "{0} {1[a]} {2.x}".format(1, {"a": 2}, Point(3)), "template": string.Template("$a").substitute(a=1),
                "formatter": string.Formatter().format("{0.y}", Point(1, 4)), "getter": operator.attrgetter("x")(Point(5)),
                "method": operator.methodcaller("upper")("a"), "wraps": functools.wraps(hinted)(lambda v: v).__name__,
                "name": type(event).__name__, "matched": matched, "json": json.dumps({"a": [1]}),
            }
        """
        #expect(try pythonLines(code, [#"{"kind":"k"}"#]) == [
            #"0 output {"point":{"x":1,"y":0},"repr":"Point(x=2, y=3)","color":"Color.RED","record":"Record({'a': 1})","dynamic":1,"missing":"missing other","has":true,"pair":{"a":1,"b":2},"hints":"{'value': <class 'int'>, 'return': <class 'str'>}","format":"1 2 3","template":"1","formatter":"4","getter":5,"method":"A","wraps":"hinted","name":"dict","matched":"k","json":"{\"a\": [1]}"}"#,
        ])
    }

    @Test func timeAndDatetimeStrptimeWork() throws {
        // They import _strptime from C, through the transformation's import function.
        let code = "import datetime, time\n\ndef transformEvent(e, m):\n    return {\"d\": datetime.datetime.strptime(\"2024-01-02\", \"%Y-%m-%d\").isoformat(), \"y\": time.strptime(\"2024\", \"%Y\").tm_year}\n"
        #expect(try pythonLines(code, ["{}"]) == [#"0 output {"d":"2024-01-02T00:00:00","y":2024}"#])
    }

    @Test func aUserFileCannotPassForTheEngine() {
        #expect(pythonCompileError("def transformEvent(e, m):\n    return e\n", fileName: "<sluice>")?.contains("engine's own file name") == true)
    }
}
