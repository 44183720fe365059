"""Direct tests of the Python driver's JSON codec (Sources/SluicePython/Driver/json_codec.py),
run in a plain python3, without the Swift host (scripts/check-drivers.sh runs them)."""

import ast
import contextlib
import importlib
import json
import os
import pathlib
import random
import sys
import unittest

DRIVER = pathlib.Path(__file__).resolve().parents[3] / "Sources" / "SluicePython" / "Driver"


def _prelude_constant(name):
    """The value prelude.py assigns to `name` (a literal expression of built-ins)."""
    tree = ast.parse((DRIVER / "prelude.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets if isinstance(target, ast.Name)] == [name]:
            return eval(compile(ast.Expression(node.value), "prelude.py", "eval"), {})
    raise LookupError(name)


def load_codec():
    """json_codec.py run as the driver runs it, with the names it takes from the other parts:
    the modules prelude.py imports, its envelope keys, the batch holder of restrictions.py (no
    batch is running), and the random bytes and no-value marker of isolation.py."""
    importlib.import_module("decimal")  # loaded, as the driver loads every allowed module first
    namespace = {
        "__name__": "json_codec",
        "sys": sys,
        "json": json,
        "_ENVELOPE_KEYS": _prelude_constant("_ENVELOPE_KEYS"),
        "_active_batch": [None],
        "_urandom": os.urandom,
        "_EMPTY": object(),
    }
    path = DRIVER / "json_codec.py"
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def nested(levels):
    return "[" * levels + "]" * levels


@contextlib.contextmanager
def no_digit_limit():
    """Python's own int <-> str past the digit limit, to compare with."""
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(saved)


class JSONCodecTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.codec = load_codec()

    def test_encode_is_compact_keeps_non_ascii_and_refuses_nan(self):
        encode = self.codec["_encode"]
        self.assertEqual(encode({"a": "é\u2028", "b": [1, 2.5, None, True]}), '{"a":"é\u2028","b":[1,2.5,null,true]}')
        self.assertEqual(encode("x\"y"), '"x\\"y"')
        with self.assertRaises(ValueError):
            encode({"n": float("nan")})
        with self.assertRaises(TypeError):
            encode({"s": {1, 2}})

    def test_loads_refuses_extra_data_and_empty_text(self):
        loads = self.codec["_loads"]
        self.assertEqual(loads(' {"a": [1, 2]} \n'), {"a": [1, 2]})
        with self.assertRaises(ValueError) as extra:
            loads('{"a": 1} x')
        self.assertIn("Extra data", str(extra.exception))
        with self.assertRaises(ValueError) as empty:
            loads("   ")
        self.assertIn("Expecting value", str(empty.exception))

    def test_integer_digits_convert_exactly_past_the_digit_limit(self):
        generator = random.Random(13)
        for digits in (4_301, 9_000, 50_001):
            with no_digit_limit():
                expected = generator.randrange(10 ** (digits - 1), 10 ** digits)
                text = str(expected)
            value = self.codec["_int_from_digits"](text)
            self.assertEqual(value, expected)
            self.assertEqual(self.codec["_int_from_digits"]("-" + text), -value)
            self.assertEqual(self.codec["_int_to_digits"](value), text)
            self.assertEqual(self.codec["_int_to_digits"](-value), "-" + text)

    def test_a_large_integer_reads_slowly_and_writes_back_as_it_came(self):
        digits = "7" * 5_000
        text = '{"message": {"n": %s, "small": 12}, "metadata": {}}' % digits
        with self.assertRaises(ValueError):
            self.codec["_loads"](text)  # the fast path refuses it
        integers = {}
        value = self.codec["_loads_slowly"](text, integers)
        with no_digit_limit():
            self.assertEqual(value["message"]["n"], int(digits))
        self.assertEqual(len(integers), 1)
        self.assertEqual(self.codec["_encode_any"](value["message"]), '{"n":%s,"small":12}' % digits)
        with no_digit_limit():
            key = int(digits)
        self.assertEqual(self.codec["_encode_slowly"]({key: [1]}, None), '{"%s":[1]}' % digits)

    def test_nesting_is_limited_to_maximum_depth_on_reading(self):
        depth = self.codec["MAXIMUM_DEPTH"]
        self.assertEqual(depth, 10_000)
        loads_slowly = self.codec["_loads_slowly"]
        value = loads_slowly(nested(depth), {})
        self.assertFalse(self.codec["_deeper_than"](value, depth))
        self.assertTrue(self.codec["_deeper_than"](value, depth - 1))
        with self.assertRaises(ValueError) as deeper:
            loads_slowly(nested(depth + 1), {})
        self.assertEqual(str(deeper.exception), f"nesting deeper than {depth} levels")
        # The envelope does not count: its event may nest the whole limit.
        envelope = loads_slowly('{"message": {"a": %s}, "metadata": {}}' % nested(depth - 1), {})
        self.assertIn("a", envelope["message"])

    def test_nesting_is_limited_to_maximum_depth_on_writing(self):
        depth = self.codec["MAXIMUM_DEPTH"]
        value = current = []
        for _ in range(depth - 1):
            current.append([])
            current = current[0]
        self.assertEqual(self.codec["_encode_any"](value), nested(depth))
        current.append([])
        with self.assertRaises(RecursionError):
            self.codec["_encode_any"](value)
        looped = []
        looped.append(looped)
        with self.assertRaises(RecursionError):
            self.codec["_encode_slowly"](looped, None)


if __name__ == "__main__":
    unittest.main()
