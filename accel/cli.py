"""The `lowbit` command line."""

import argparse
import math
import sys

import numerics as nx


def _fmt_value(v: float) -> str:
    if v == 0:
        return "0"
    if float(v).is_integer() and v < 2**32:
        return str(int(v))
    e = math.log2(v)
    if e == int(e) and abs(e) >= 4:
        return f"2^{int(e)}"
    return f"{v:.6g}"


def _specials(f) -> str:
    if isinstance(f, nx.PositFormat):
        return f"posit<{f.bits},{f.es}>, NaR = 0x{f.nan_code:X}, quire {f.quire_bits} bits"
    if isinstance(f, nx.LogFormat):
        return f"sign + log2 with {f.frac_bits} fraction bits, zero; no inf/NaN"
    if isinstance(f, nx.LookupFormat):
        return f"{len(f.levels)} levels; no inf/NaN"
    if isinstance(f, nx.IntFormat):
        rng = f"{f.lowest}..{f.highest}"
        return f"integer {rng}; NaN/inf: error"
    if isinstance(f, nx.FloatFormat):
        parts = ["±inf" if f.has_inf else "no inf"]
        parts.append({nx.NanPolicy.IEEE: "NaN: exp all ones", nx.NanPolicy.FN: "NaN: all ones",
                      nx.NanPolicy.FNUZ: "NaN: 0x80.. (no -0)", nx.NanPolicy.NONE: "no NaN"}[f.nan])
        if not f.signed:
            parts.append("unsigned")
        if not f.zero:
            parts.append("no zero")
        return ", ".join(parts)
    return ""


def format_table(names: list[str]) -> str:
    """The table `lowbit formats` prints."""
    rows = [("name", "bits", "max", "min normal", "min subnormal", "inf / NaN")]
    for name in names:
        f = nx.get_format(name)
        sub = f.min_subnormal
        has_sub = getattr(f, "subnormals", False) and getattr(f, "zero", True) and sub != f.min_normal
        rows.append((name, str(f.bits), _fmt_value(f.max), _fmt_value(f.min_normal),
                     _fmt_value(sub) if has_sub else "none", _specials(f)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_formats(args) -> int:
    names = args.names or nx.format_names()
    try:
        print(format_table(names))
    except ValueError as err:
        print(f"lowbit formats: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point. With no command, runs the built-in default (for now: the format table)."""
    parser = argparse.ArgumentParser(prog="lowbit", description="Bit-accurate number formats and accelerator model.")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("formats", help="table of every registered format (bits, range, inf/NaN rules)")
    p.add_argument("names", nargs="*", help="format names (default: all registered)")
    p.set_defaults(func=_cmd_formats)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["formats"])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
