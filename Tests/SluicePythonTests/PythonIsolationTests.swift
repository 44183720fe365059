import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// One interpreter serves every transformation of a process (in-process here, exactly as a
/// worker with `--workers 1`): what one tenant does to an allowed module is invisible to the
/// next, and every batch starts with the modules as a fresh worker has them.
struct ModuleChange: Sendable, CustomTestStringConvertible {
    /// The allowed module.
    var module: String
    /// Statements that change the module's state (at the indentation of a function body).
    var change: String
    /// A Python expression, true exactly while the module is as a fresh worker has it.
    var clean: String
    /// Statements that run before either expression (imports, helpers).
    var setup = ""
    var testDescription: String { module }
}

/// A str that runs its owner's code whenever another str is compared with it.
private let tattletale = """
class Tattletale(str):
    __hash__ = str.__hash__

    def __eq__(self, other):
        log("tenant A's code ran")
        return str.__eq__(self, other)

"""

let moduleChanges: [ModuleChange] = [
    ModuleChange(module: "abc", change: "abc.ABC.register(int)\nabc.ABCMeta.injected = 1",
                 clean: "not isinstance(1, abc.ABC) and not hasattr(abc.ABCMeta, 'injected')"),
    ModuleChange(module: "base64", change: "base64.b64encode = lambda *a, **k: b'poisoned'\ndel base64.b64decode",
                 clean: "base64.b64encode(b'a') == b'YQ==' and base64.b64decode(b'YQ==') == b'a'"),
    ModuleChange(module: "binascii", change: "binascii.hexlify = lambda *a: b'poisoned'", clean: "binascii.hexlify(b'a') == b'61'"),
    ModuleChange(module: "bisect", change: "bisect.bisect = lambda *a, **k: -1", clean: "bisect.bisect([1, 2], 1) == 1"),
    ModuleChange(module: "calendar", change: "calendar.setfirstweekday(calendar.SUNDAY)\ncalendar.month_name = ['poisoned'] * 13",
                 clean: "calendar.firstweekday() == 0 and calendar.month_name[1] == 'January'"),
    ModuleChange(module: "cmath", change: "cmath.pi = 3", clean: "cmath.pi > 3.14"),
    ModuleChange(module: "collections", change: "collections.Counter.most_common = lambda self, n=None: []",
                 clean: "collections.Counter('aab').most_common(1) == [('a', 2)]"),
    ModuleChange(module: "collections.abc", change: "collections.abc.Mapping.register(list)\ncollections.abc.Sequence.index = lambda self, value: -1",
                 clean: "not isinstance([], collections.abc.Mapping) and collections.abc.Sequence.index.__name__ == 'index'"),
    ModuleChange(module: "copy", change: "copy.dispatch_table[ipaddress.IPv4Address] = lambda address: (str, ('poisoned',))",
                 clean: "copy.copy(ipaddress.ip_address('1.2.3.4')) == ipaddress.ip_address('1.2.3.4')", setup: "import ipaddress"),
    ModuleChange(module: "dataclasses", change: "dataclasses.Field.__repr__ = lambda self: 'poisoned'\ndataclasses.MISSING = None",
                 clean: "repr(dataclasses.field()).startswith('Field(') and dataclasses.MISSING is not None"),
    ModuleChange(module: "datetime", change: "datetime.MAXYEAR = 1\ndatetime.timezone = None",
                 clean: "datetime.MAXYEAR == 9999 and datetime.timezone.utc is not None"),
    ModuleChange(module: "decimal", change: "decimal.getcontext().prec = 3\ndecimal.DefaultContext.prec = 5\ndecimal.BasicContext.traps[decimal.Overflow] = False",
                 clean: "len(str(decimal.Decimal(1) / 7)) == 30 and decimal.DefaultContext.prec == 28 and decimal.BasicContext.traps[decimal.Overflow]"),
    ModuleChange(module: "difflib", change: "difflib.SequenceMatcher.ratio = lambda self: 0.5",
                 clean: "difflib.SequenceMatcher(None, 'abc', 'abc').ratio() == 1.0"),
    ModuleChange(module: "enum", change: "enum.Enum.__str__ = lambda self: 'poisoned'",
                 clean: "str(enum.Enum('Color', 'RED').RED) == 'Color.RED'"),
    ModuleChange(module: "fractions", change: "fractions.Fraction.limit_denominator = lambda self, largest=0: 'poisoned'",
                 clean: "fractions.Fraction(1, 3).limit_denominator(10) == fractions.Fraction(1, 3)"),
    ModuleChange(module: "functools", change: "functools.partialmethod.__repr__ = lambda self: 'poisoned'\nfunctools.reduce = None",
                 clean: "repr(functools.partialmethod(print)).startswith('functools.partialmethod(') and functools.reduce(max, [1, 2]) == 2"),
    ModuleChange(module: "hashlib", change: "hashlib.algorithms_available.clear()\nhashlib.sha256 = hashlib.md5",
                 clean: "'sha256' in hashlib.algorithms_available and hashlib.sha256(b'').digest_size == 32"),
    ModuleChange(module: "heapq", change: "heapq.heappush = None", clean: "heapq.heappush is not None"),
    ModuleChange(module: "hmac", change: "hmac.HMAC.blocksize = 1", clean: "hmac.HMAC.blocksize == 64"),
    ModuleChange(module: "html", change: "html.entities.name2codepoint['amp'] = 0\nhtml.entities.html5['amp;'] = 'poisoned'\nhtml.escape = None",
                 clean: "html.entities.name2codepoint['amp'] == 38 and html.unescape('&amp;') == '&' and html.escape('<') == '&lt;'"),
    ModuleChange(module: "ipaddress", change: "ipaddress.IPv4Address._constants._private_networks.clear()\nipaddress.IPv4Address.is_private = False",
                 clean: "ipaddress.ip_address('10.0.0.1').is_private is True and len(ipaddress.IPv4Address._constants._private_networks) > 10"),
    ModuleChange(module: "itertools", change: "itertools.count = None", clean: "next(itertools.count(5)) == 5"),
    ModuleChange(module: "json", change: "json.JSONEncoder.item_separator = ';'\njson.decoder.JSONDecodeError = None\njson.loads = None",
                 clean: "json.dumps({'a': 1, 'b': 2}) == '{\"a\": 1, \"b\": 2}' and json.decoder.JSONDecodeError is json.JSONDecodeError and json.loads('1') == 1"),
    ModuleChange(module: "math", change: "math.pi = 3\ndel math.tau", clean: "math.pi > 3.14 and math.tau > 6"),
    ModuleChange(module: "numbers", change: "numbers.Number.register(str)", clean: "not isinstance('x', numbers.Number)"),
    ModuleChange(module: "operator", change: "operator.add = operator.sub", clean: "operator.add(1, 1) == 2"),
    ModuleChange(module: "random", change: "random.seed(42)\nrandom.Random.injected = 1",
                 clean: "random.random() != 0.6394267984578837 and not hasattr(random.Random, 'injected')"),
    ModuleChange(module: "re", change: """
        try:
            re._cache[(str, 'a', 0)] = re.compile('b')
        except AttributeError:
            pass
        re.compile = lambda *a, **k: None
        re.match(Tattletale('a'), 'a')
        """, clean: "re.compile('a').pattern == 'a' and re.match('a', 'b') is None", setup: tattletale),
    ModuleChange(module: "statistics", change: "statistics.NormalDist.mean = property(lambda self: 0)\nstatistics.mean = None",
                 clean: "statistics.NormalDist(5, 1).mean == 5 and statistics.mean([1, 3]) == 2"),
    ModuleChange(module: "string", change: "string.Template.delimiter = '#'\nstring.ascii_letters = ''",
                 clean: "string.Template('$a').substitute(a=1) == '1' and len(string.ascii_letters) == 52"),
    ModuleChange(module: "struct", change: "struct.pack = None\nstruct.calcsize(Tattletale('<i'))",
                 clean: "struct.pack('<i', 1) == b'\\x01\\x00\\x00\\x00' and struct.calcsize('<i') == 4", setup: tattletale),
    ModuleChange(module: "textwrap", change: "textwrap.TextWrapper.wordsep_simple_re = None\ntextwrap.dedent = None",
                 clean: "textwrap.TextWrapper.wordsep_simple_re is not None and textwrap.dedent('  a') == 'a'"),
    ModuleChange(module: "time", change: "time.time = lambda: 0", clean: "time.time() > 1e9"),
    ModuleChange(module: "typing", change: "typing.TypeVar.__repr__ = lambda self: 'poisoned'\ntyping.List = int",
                 clean: "repr(typing.TypeVar('T')) == '~T' and typing.List is not int"),
    ModuleChange(module: "unicodedata", change: "unicodedata.name = None", clean: "unicodedata.name('a') == 'LATIN SMALL LETTER A'"),
    ModuleChange(module: "urllib", change: "urllib.parse = None", clean: "urllib.parse.quote('a b') == 'a%20b'", setup: "import urllib.parse"),
    ModuleChange(module: "urllib.parse", change: "urllib.parse.urlsplit(Tattletale('http://x/'))\nurllib.parse.uses_netloc.clear()",
                 clean: "urllib.parse.urlsplit('http://x/').netloc == 'x' and 'http' in urllib.parse.uses_netloc", setup: tattletale),
    ModuleChange(module: "uuid", change: "object.__setattr__(uuid.NAMESPACE_DNS, 'int', 0)",
                 clean: "str(uuid.uuid5(uuid.NAMESPACE_DNS, 'a')) == '4f3f2898-69e3-5a0d-820a-c4e87987dbce'"),
    ModuleChange(module: "zoneinfo", change: "zoneinfo.ZoneInfo.clear_cache()\nzoneinfo.ZoneInfo(Tattletale('UTC'))\nzoneinfo.TZPATH = ()",
                 clean: "zoneinfo.ZoneInfo('UTC').key == 'UTC' and zoneinfo.TZPATH != ()", setup: tattletale),
    ModuleChange(module: "zlib", change: "zlib.crc32 = lambda *a: 0", clean: "zlib.crc32(b'a') == 3904355907"),
]

@Suite(.serialized) struct PythonIsolation {
    /// Tenant A checks that it starts clean, changes the module and checks that the change took
    /// (so that this test fails where isolation does); tenant B, run between A's batches, only
    /// checks. Neither ever runs the other's code (B's logs stay empty).
    @Test(arguments: moduleChanges)
    func aChangeByOneTenantIsInvisibleToTheNext(_ change: ModuleChange) throws {
        let prelude = "import \(change.module)\n" + change.setup + """

        def is_clean():
            try:
                return bool(\(change.clean))
            except Exception:
                return False


        """
        let body = change.change.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        let tenantA = prelude + """
        def transformEvent(event, metadata):
            clean = is_clean()
        \(body)
            return {"clean": clean, "changed": not is_clean()}

        """
        let tenantB = prelude + "def transformEvent(event, metadata):\n    return {\"clean\": is_clean()}\n"
        let first = try PythonEngine.shared.compile(TransformationSource(name: "tenant-a", language: .python, fileName: "a.py", code: tenantA), libraries: NoLibraries())
        let second = try PythonEngine.shared.compile(TransformationSource(name: "tenant-b", language: .python, fileName: "b.py", code: tenantB), libraries: NoLibraries())
        for _ in 0..<2 {
            let a = PythonEngine.shared.run(first, batch: Batch(items: items(["{}"])), limits: .defaults)
            #expect(a.results.map { render($0) } == [#"0 output {"clean":true,"changed":true}"#], "tenant A in \(change.module)")
            let b = PythonEngine.shared.run(second, batch: Batch(items: items(["{}"])), limits: .defaults)
            #expect(b.results.map { render($0) } == [#"0 output {"clean":true}"#], "tenant B in \(change.module)")
            #expect(b.logs.isEmpty, "tenant A's code ran in tenant B's batch: \(b.logs)")
        }
    }

    @Test func everyAllowedModuleHasAnIsolationCase() throws {
        let allowed = "abc base64 binascii bisect calendar cmath collections collections.abc copy dataclasses datetime decimal difflib enum fractions functools hashlib heapq hmac html ipaddress itertools json math numbers operator random re statistics string struct textwrap time typing unicodedata urllib urllib.parse uuid zoneinfo zlib"
        #expect(Set(moduleChanges.map(\.module)) == Set(allowed.split(separator: " ").map(String.init)))
    }

    @Test func randomIsReseededForEveryBatchButDeterminismStillHolds() throws {
        let code = "import random\n\ndef transformEvent(event, metadata):\n    return {\"r\": random.random()}\n"
        let compiled = try PythonEngine.shared.compile(TransformationSource(name: "r", language: .python, fileName: "r.py", code: code), libraries: NoLibraries())
        let live = (0..<3).map { _ in PythonEngine.shared.run(compiled, batch: Batch(items: items(["{}"])), limits: .defaults).results.map { render($0) } }
        #expect(Set(live.map { $0.joined() }).count == 3)
        let fixed = (0..<2).map { _ in
            PythonEngine.shared.run(compiled, batch: Batch(items: items(["{}"]), determinism: .testDefaults), limits: .defaults).results.map { render($0) }
        }
        #expect(fixed[0] == fixed[1])
    }

    @Test func aPrivateNameOfAModuleIsNotThere() throws {
        let code = """
        import re, random, uuid

        def transformEvent(event, metadata):
            found = []
            for module, name in ((re, "_cache"), (random, "_inst"), (random, "_os"), (uuid, "_get_command_stdout")):
                try:
                    getattr(module, name)
                    found.append(name)
                except AttributeError:
                    pass
            return {"found": found}
        """
        #expect(try pythonLines(code, ["{}"]) == [#"0 output {"found":[]}"#])
    }
}
