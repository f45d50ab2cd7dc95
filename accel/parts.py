"""Custom number formats, block formats and accumulators in a design TOML ([[formats]], [[block_formats]],
[[accumulators]]): read, checked and registered (numerics.register_format / register_block_format /
register_accumulator) before the unit that names them is built, and written back by Design.to_toml, so a file
that defines and uses a part loads in a fresh process."""

import dataclasses
import enum

import numerics as nx
from numerics.blocks.rules import scale_rule_arg

FAMILIES = {"float": nx.FloatFormat, "int": nx.IntFormat, "posit": nx.PositFormat, "log": nx.LogFormat,
            "lookup": nx.LookupFormat}
# what numerics registers on import: parts of these names are not written to TOML (every process has them)
_BUILTIN_FORMATS = frozenset(nx.format_names())
_BUILTIN_ACCUMULATORS = frozenset(nx.accumulator_names())
_BUILTIN_BLOCK_FORMATS = frozenset(nx.block_format_names())
# the TOML spelling of BlockFormat.block_size = None (the whole axis: per-channel); TOML has no null
WHOLE_AXIS = "axis"


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
        if isinstance(kw.get("out_format"), str | dict):  # a format name or an unnamed format, inline
            kw["out_format"] = _format_arg(kw["out_format"], where, inline_name="out_format")
        return name, nx.Accumulator(**kw)
    except (ValueError, TypeError) as err:
        if where in str(err):
            raise
        raise type(err)(f"{where}: {err}") from None


def _format_arg(v, where: str, inline_name: str = "inline"):
    """A ScalarFormat from a format name (a [[formats]] one too) or an inline table without a name (the
    format is then named `inline_name`)."""
    if isinstance(v, str):
        return nx.get_format(v)
    if isinstance(v, dict):
        return format_from_table({"name": inline_name, **v}, where)[1]
    raise TypeError(f"{where} must be a format name or an inline table {{ family = ..., ... }}, got {v!r}")


def _block_size_arg(v, where: str):
    """BlockFormat.block_size from TOML: an int, "axis" (None: the whole axis) or an array of them (tiles)."""
    def one(b):
        if b == WHOLE_AXIS:
            return None
        if isinstance(b, bool) or not isinstance(b, int):
            raise TypeError(f"{where}: block_size must be a positive int, {WHOLE_AXIS!r} (the whole axis) or an "
                            f"array of them (tiles), got {v!r}")
        return b
    return tuple(one(b) for b in v) if isinstance(v, list) else one(v)


def block_format_from_table(table: dict, where: str = "[[block_formats]]"):
    """(name, BlockFormat) of a [[block_formats]] table: name, element and scale (format names, [[formats]]
    ones included, or inline format tables), block_size (an int, "axis" for the whole axis, or an array for
    tiles), scale_rule (a ScaleRule name or value: "floor", "amax", "rceil", ...), tensor_scale, zero_point,
    recipe; omitted keys take the BlockFormat defaults (block_size 32, scale_rule floor)."""
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    table = dict(table)
    name = _name(table, where)
    where = f"{where} {name!r}"
    table.pop("name")
    try:
        kw = _fields(nx.BlockFormat, {k: v for k, v in table.items() if k != "scale_rule"}, where)
        if "scale_rule" in table:
            kw["scale_rule"] = scale_rule_arg(table["scale_rule"])
        for key in ("element", "scale"):
            kw[key] = _format_arg(kw[key], f"{where}: {key}")
        if "block_size" in table:
            kw["block_size"] = _block_size_arg(table["block_size"], where)
        return name, nx.BlockFormat(**kw)
    except (ValueError, TypeError) as err:
        if where in str(err):
            raise
        raise type(err)(f"{where}: {err}") from None


def _existing(get, name: str):
    try:
        return get(name)
    except (ValueError, KeyError):
        return None


# (TOML key, table reader, getter, registerer, the other registry's getter whose names this one may not take)
_KINDS = (("formats", format_from_table, nx.get_format, nx.register_format, nx.get_block_format),
          ("block_formats", block_format_from_table, nx.get_block_format, nx.register_block_format, nx.get_format),
          ("accumulators", accumulator_from_table, nx.get_accumulator, nx.register_accumulator, None))
PART_KEYS = tuple(k[0] for k in _KINDS)


def register_parts(doc: dict, source: str) -> None:
    """Register the [[formats]] (first: block formats and accumulators may name them), [[block_formats]] and
    [[accumulators]] of a parsed design TOML. Defining a name again identically is fine (the same file loaded
    twice); a different definition under a name that exists, or a scalar format named like a block format (or
    the reverse: rate tables and workloads take both kinds of name), is a ValueError naming both."""
    for key, build, get, register, other in _KINDS:
        tables = doc.get(key, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ValueError(f"{source}: {key!r} must be [[{key}]] tables")
        for i, t in enumerate(tables):
            name, part = build(t, f"{source}: [[{key}]] #{i + 1}")
            clash = _existing(other, name) if other is not None else None
            if clash is not None:
                kind = "block format" if key == "formats" else "scalar format"
                raise ValueError(f"{source}: [[{key}]] #{i + 1} is named {name!r}, which is already a {kind} "
                                 f"({clash!r}); format names must be unique across scalar and block formats")
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
            v = _format_value(v)
        out[f.name] = v
    return out


def _format_value(fmt):
    """A format as TOML writes it inside another part: its name if that name gives it back, else inline."""
    if _existing(nx.get_format, fmt.name) == fmt:
        return fmt.name
    return {k: x for k, x in _format_table("", fmt).items() if k != "name"}


def _block_table(name: str, bf) -> dict:
    out = {"name": name}
    for f in dataclasses.fields(bf):
        v = getattr(bf, f.name)
        if f.name in ("element", "scale"):
            v = _format_value(v)
        elif f.name == "block_size":
            v = [WHOLE_AXIS if b is None else b for b in v] if isinstance(v, tuple) else WHOLE_AXIS if v is None \
                else v
        elif isinstance(v, enum.Enum):
            v = v.value
        out[f.name] = v
    return out


def _custom_format_names(fmt) -> list[str]:
    """The format's name when it is a registered format a fresh process lacks (else nothing)."""
    name = fmt.name
    return [name] if name not in _BUILTIN_FORMATS and _existing(nx.get_format, name) == fmt else []


def custom_parts(unit) -> dict[str, list[dict]]:
    """{"formats": [...], "block_formats": [...], "accumulators": [...]}: the tables of the registered parts
    `unit` uses that a fresh process lacks (registered after accel was imported): what Design.to_toml writes.
    A custom block format counts as used when the unit's accumulator table names it or the unit computes its
    element; the formats that custom block formats and accumulators are made of come along."""
    table = getattr(unit, "accumulator", None)
    names = list(table.values()) if isinstance(table, dict) else [table] if isinstance(table, str) else []
    keys = list(table) if isinstance(table, dict) else []
    fmts = list(unit.formats()) if hasattr(unit, "formats") else []
    blocks = []
    for b in nx.block_format_names():
        if b in _BUILTIN_BLOCK_FORMATS:
            continue
        bf = nx.get_block_format(b)
        if b in keys or bf.element.name in fmts:
            blocks.append(_block_table(b, bf))
            fmts += _custom_format_names(bf.element) + _custom_format_names(bf.scale)
    accs = []
    for a in dict.fromkeys(names):
        if a not in _BUILTIN_ACCUMULATORS and a in nx.accumulator_names():
            acc = nx.get_accumulator(a)
            accs.append(_accumulator_table(a, acc))
            if acc.out_format is not None:
                fmts.append(acc.out_format.name)
    out = [_format_table(f, nx.get_format(f)) for f in dict.fromkeys(fmts)
           if f not in _BUILTIN_FORMATS and f in nx.format_names()]
    return {"formats": out, "block_formats": blocks, "accumulators": accs}


def registered_parts() -> dict[str, list[dict]]:
    """Every part registered in this process after accel was imported, as the tables register_parts
    takes: what a fresh worker process (a spawned pool, forkserver, a Dask worker) must register before it
    can evaluate designs and workloads that name them."""
    fmts = [_format_table(f, nx.get_format(f)) for f in nx.format_names() if f not in _BUILTIN_FORMATS]
    blocks = [_block_table(b, nx.get_block_format(b)) for b in nx.block_format_names()
              if b not in _BUILTIN_BLOCK_FORMATS]
    accs = [_accumulator_table(a, nx.get_accumulator(a)) for a in nx.accumulator_names()
            if a not in _BUILTIN_ACCUMULATORS]
    return {"formats": fmts, "block_formats": blocks, "accumulators": accs}
