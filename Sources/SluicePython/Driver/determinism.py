# ---- Determinism: a fixed clock and seeded randomness -------------------------------------
_FIXED_MODULES = ("time", "datetime", "random", "uuid")


def _fixed_module(name, settings, made):
    """A copy of a clock or randomness module with a fixed clock and a seeded generator, for test
    and replay runs (see SluiceCore.Determinism)."""
    import datetime as real_datetime, random as real_random, time as real_time, uuid as real_uuid
    real = {"time": real_time, "datetime": real_datetime, "random": real_random, "uuid": real_uuid}[name]
    module = types.ModuleType(name)
    module.__dict__.clear()
    module.__dict__.update(_view(name).__dict__)
    seconds = settings["now"] / 1000
    if "generator" not in made:
        made["generator"] = real_random.Random(settings["seed"])
    generator = made["generator"]
    if name == "time":
        module.time = lambda: seconds
        module.time_ns = lambda: settings["now"] * 1_000_000
        module.monotonic = module.perf_counter = lambda: 0.0
        module.monotonic_ns = module.perf_counter_ns = lambda: 0
        module.gmtime = lambda value=None: real_time.gmtime(seconds if value is None else value)
        module.localtime = lambda value=None: real_time.gmtime(seconds if value is None else value)
        module.strftime = lambda format, value=None: real_time.strftime(format, real_time.gmtime(seconds) if value is None else value)
        module.ctime = lambda value=None: real_time.asctime(real_time.gmtime(seconds if value is None else value))
        module.asctime = lambda value=None: real_time.asctime(real_time.gmtime(seconds) if value is None else value)
    elif name == "datetime":
        instant = real_datetime.datetime.fromtimestamp(seconds, real_datetime.timezone.utc)

        # Subclasses that return their own instances, so isinstance checks hold as in normal runs.
        class date(real_datetime.date):
            __slots__ = ()

            @classmethod
            def today(cls):
                return cls(instant.year, instant.month, instant.day)

        class datetime(real_datetime.datetime, date):
            __slots__ = ()

            @classmethod
            def now(cls, tz=None):
                value = instant.astimezone(tz) if tz is not None else instant.replace(tzinfo=None)
                return cls(value.year, value.month, value.day, value.hour, value.minute, value.second,
                           value.microsecond, value.tzinfo)

            @classmethod
            def utcnow(cls):
                return cls.now(None)

            @classmethod
            def today(cls):
                return cls.now(None)

        module.datetime = datetime
        module.date = date
    elif name == "random":
        # Every public function of the module draws from the seeded generator; new Random()
        # objects without a seed get one derived from it.
        for function in dir(generator):
            if not function.startswith("_") and callable(getattr(generator, function)) and hasattr(real, function):
                setattr(module, function, getattr(generator, function))

        class Random(real_random.Random):
            def __init__(self, x=None):
                super().__init__(generator.getrandbits(64) if x is None else x)

        module.Random = Random
    elif name == "uuid":
        module.uuid4 = lambda: real_uuid.UUID(int=generator.getrandbits(128), version=4)
        module.uuid1 = lambda node=None, clock_seq=None: real_uuid.UUID(int=generator.getrandbits(128), version=1)
    return module
