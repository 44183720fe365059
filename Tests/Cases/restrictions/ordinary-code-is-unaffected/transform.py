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
