"""Custom number formats and accumulators in a design TOML ([[formats]], [[accumulators]]): read, checked and
registered (numerics.register_format / register_accumulator) before the unit that names them is built, and
written back by Design.to_toml, so a file that defines and uses a part loads in a fresh process."""

import dataclasses
import enum

import numerics as nx

FAMILIES = {"float": nx.FloatFormat, "int": nx.IntFormat, "posit": nx.PositFormat, "log": nx.LogFormat,
            "lookup": nx.LookupFormat}
# what numerics registers on import: parts of these names are not written to TOML (every process has them)
_BUILTIN_FORMATS = frozenset(nx.format_names())
_BUILTIN_ACCUMULATORS = frozenset(nx.accumulator_names())


def _enum(cls, v, where: str):
    """An Enum member from itself, its value or its name (any case)."""
    if isinstance(v, cls):
        return v
    for m in cls:
        if v == m.value or (isinstance(v, str) and v.upper() == m.name):
            return m
    valid = [m.value if isinstance(m.value, str) else m.name for m in cls]
    raise ValueError(f"{where} must be one of {valid}, got {v!r}")


def _fields(cls, table: dict, where: str, skip=()) -> dict:
    """The table's keys as constructor keywords of `cls`: no unknown key, every required one present."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in skip}
    unknown = [k for k in table if k not in fields]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(fields), 1, 0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{where}: unknown key {unknown[0]!r}{hint}; valid keys: name, "
                         f"{'family, ' if cls in FAMILIES.values() else ''}{', '.join(fields)}")
    missing = [n for n, f in fields.items() if n not in table and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{where} lacks {missing} (required fields of {cls.__name__})")
    out = {}
    for k, v in table.items():
        default = fields[k].default
        if isinstance(default, enum.Enum):
            v = _enum(type(default), v, f"{where}: {k}")
        elif isinstance(v, list):
            v = tuple(v)
        out[k] = v
    return out


def _name(table: dict, where: str) -> str:
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where} needs name = \"...\" (a non-empty string), got {name!r}")
    return name


def format_from_table(table: dict, where: str = "[[formats]]"):
    """(name, format) of a [[formats]] table: name, family (float | int | posit | log | lookup) and the
    family's fields (float: exp_bits, man_bits, bias, signed, inf, nan, subnormals, zero; posit: bits, es;
    lookup: levels; int: bits, signed, narrow, frac_bits; log: bits, frac_bits, domain)."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    table = dict(table)
    name = _name(table, where)
    where = f"{where} {name!r}"
    table.pop("name")
    family = table.pop("family", None)
    if family not in FAMILIES:
        raise ValueError(f"{where}: family must be one of {list(FAMILIES)}, got {family!r}")
    cls = FAMILIES[family]
    try:
        return name, cls(**_fields(cls, table, where))
    except (ValueError, TypeError) as err:
        if where in str(err):
            raise
        raise type(err)(f"{where}: {err}") from None


def accumulator_from_table(table: dict, where: str = "[[accumulators]]"):
    """(name, Accumulator) of an [[accumulators]] table: name and the Accumulator fields (method by value,
    e.g. "fused"; out_format a format name; out_rounding a RoundMode name)."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    table = dict(table)
    name = _name(table, where)
    where = f"{where} {name!r}"
    table.pop("name")
    if "method" in table:
        table["method"] = _enum(nx.AccMethod, table["method"], f"{where}: method")
    try:
        kw = _fields(nx.Accumulator, table, where)
        if isinstance(kw.get("out_format"), str):
            kw["out_format"] = nx.get_format(kw["out_format"])
        elif isinstance(kw.get("out_format"), dict):  # an unnamed format, inline
            kw["out_format"] = format_from_table({"name": "out_format", **kw["out_format"]}, where)[1]
        return name, nx.Accumulator(**kw)
    except (ValueError, TypeError) as err:
        if where in str(err):
            raise
        raise type(err)(f"{where}: {err}") from None


def _existing(get, name: str):
    try:
        return get(name)
    except (ValueError, KeyError):
        return None


def register_parts(doc: dict, source: str) -> None:
    """Register the [[formats]] (first: accumulators may name them) and [[accumulators]] of a parsed design
    TOML. Defining a name again identically is fine (the same file loaded twice); a different definition
    under a name that exists is a ValueError naming both."""
    for key, build, get, register in (("formats", format_from_table, nx.get_format, nx.register_format),
                                      ("accumulators", accumulator_from_table, nx.get_accumulator,
                                       nx.register_accumulator)):
        tables = doc.get(key, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ValueError(f"{source}: {key!r} must be [[{key}]] tables")
        for i, t in enumerate(tables):
            name, part = build(t, f"{source}: [[{key}]] #{i + 1}")
            old = _existing(get, name)
            if old is None:
                register(name, part)
            elif old != part:
                raise ValueError(f"{source}: [[{key}]] #{i + 1} defines {name!r} as {part!r}, but {name!r} is "
                                 f"already {old!r}; give the new one another name")


def _format_table(name: str, fmt) -> dict:
    family = next(k for k, c in FAMILIES.items() if type(fmt) is c)
    out = {"name": name, "family": family}
    for f in dataclasses.fields(fmt):
        v = getattr(fmt, f.name)
        if isinstance(v, enum.Enum):
            v = v.value if isinstance(v.value, str) else v.name
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def _accumulator_table(name: str, acc) -> dict:
    out = {"name": name}
    for f in dataclasses.fields(acc):
        v = getattr(acc, f.name)
        if v is None:
            continue  # TOML has no null: the default (None) is what an omitted key gives
        if isinstance(v, enum.Enum):
            v = v.value if isinstance(v.value, str) else v.name
        elif dataclasses.is_dataclass(v):  # out_format: its name if that name gives it back, else inline
            v = v.name if _existing(nx.get_format, v.name) == v else \
                {k: x for k, x in _format_table("", v).items() if k != "name"}
        out[f.name] = v
    return out


def custom_parts(unit) -> tuple[list[dict], list[dict]]:
    """([[formats]] tables, [[accumulators]] tables) of the registered parts `unit` uses that a fresh
    process lacks (not registered by numerics itself): what Design.to_toml writes."""
    accs = []
    table = getattr(unit, "accumulator", None)
    names = list(table.values()) if isinstance(table, dict) else [table] if isinstance(table, str) else []
    fmts = list(unit.formats()) if hasattr(unit, "formats") else []
    for a in dict.fromkeys(names):
        if a not in _BUILTIN_ACCUMULATORS and a in nx.accumulator_names():
            acc = nx.get_accumulator(a)
            accs.append(_accumulator_table(a, acc))
            if acc.out_format is not None:
                fmts.append(acc.out_format.name)
    out = [_format_table(f, nx.get_format(f)) for f in dict.fromkeys(fmts)
           if f not in _BUILTIN_FORMATS and f in nx.format_names()]
    return out, accs
