"""SI-prefixed quantities for people (tables, plot axes): 12.5 mJ, 3.2 us, 410 TOPS/W. Machine-readable
outputs (JSON, CSV, JSONL) keep raw SI numbers; only what is printed for reading goes through here."""

import math

# the unit of each result column (SI base units: the model works in seconds, joules, ops, bytes)
_COLUMN_UNITS = {"seconds": "s", "energy_j": "J", "ops_per_s": "OPS", "ops_per_j": "OPS/W", "ops": "OP",
                 "clock_hz": "Hz", "bytes": "B", "size_bytes": "B", "bandwidth_bytes_per_s": "B/s",
                 "bytes_per_s": "B/s", "t_seconds": "s", "leakage_j": "J", "energy_per_inference_j": "J"}
_PREFIXES = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"),
             (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a")]


def column_unit(key: str) -> str | None:
    """The SI unit of a result column ("seconds" -> "s", "energy_dram_j" -> "J"), or None (no unit)."""
    if not isinstance(key, str):
        return None
    if key.startswith("energy_") and key.endswith("_j"):
        return "J"
    if key.endswith("_bytes_per_s"):
        return "B/s"
    if key.endswith("_bytes"):
        return "B"
    return _COLUMN_UNITS.get(key.rsplit(".", 1)[-1])


def si(value: float, unit: str = "", digits: int = 4) -> str:
    """`value` with an SI prefix and `unit`, `digits` significant digits: si(0.0125, "J") -> "12.5 mJ",
    si(4.1e14, "OPS/W") -> "410 TOPS/W". Zero, inf and NaN print without a prefix."""
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return f"{v:g} {unit}".rstrip()
    mag = abs(v)
    scale, prefix = next(((s, p) for s, p in _PREFIXES if mag >= s * (1 - 0.5 * 10 ** -digits)), _PREFIXES[-1])
    text = f"{v / scale:.{digits}g}"
    if "e" in text:  # beyond the prefixes (or rounding to the next power of 1000): plain scientific
        return f"{v:.{digits - 1}e} {unit}".rstrip()
    return f"{text} {prefix}{unit}".rstrip()


def cell(key: str, value) -> str:
    """A table cell: numbers of columns with units SI-prefixed, other floats to 4 digits, None as '-'."""
    unit = column_unit(key)
    if unit and isinstance(value, int | float) and not isinstance(value, bool):
        return si(value, unit)
    if isinstance(key, str) and isinstance(value, int | float) and not isinstance(value, bool):
        if key.endswith("tops_per_mm2"):  # areas keep their unit: an SI prefix on mm² would mislead
            return f"{value:.4g} TOPS/mm²"
        if key.endswith("_mm2"):
            return f"{value:.4g} mm²"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # counts (cycles) stored as floats
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
