"""Design points: frozen dataclasses that validate themselves, with units in field names and every
constant's source beside it; TOML in and out."""

import dataclasses
import tomllib
from dataclasses import dataclass, field

from .systolic import Dataflow


def _check_positive(obj, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
            raise ValueError(f"{type(obj).__name__}.{name} must be a positive number, got {v!r}")


def _check_rates(obj, rates: dict, what: str) -> None:
    if not isinstance(rates, dict) or not rates:
        raise ValueError(f"{type(obj).__name__}.{what} must be a non-empty {{format name: rate}} table")
    from numerics import get_format
    for fmt, rate in rates.items():
        get_format(fmt)  # unknown names raise, listing close matches
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise ValueError(f"{type(obj).__name__}.{what}[{fmt!r}] must be a positive int, got {rate!r}")


@dataclass(frozen=True)
class MemoryLevel:
    """One level of the memory hierarchy."""

    name: str
    size_bytes: int
    bandwidth_bytes_per_s: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("MemoryLevel.name must be a non-empty str")
        _check_positive(self, "size_bytes", "bandwidth_bytes_per_s")


@dataclass(frozen=True)
class TensorCore:
    """GPU-style matrix units: `sm_count` SMs, each doing `macs_per_cycle[format]` dense MACs per clock
    (all its tensor cores together); 2:4 sparsity doubles the math rate on the compressed K when
    `sparse` is True (NVIDIA Ampere and later)."""

    name: str
    sm_count: int
    macs_per_cycle: dict = field(hash=False)
    sparse: bool = True
    accumulator: str = "fp32"

    def __post_init__(self) -> None:
        _check_positive(self, "sm_count")
        _check_rates(self, self.macs_per_cycle, "macs_per_cycle")
        from numerics import get_accumulator
        get_accumulator(self.accumulator)

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        if fmt not in self.macs_per_cycle:
            raise ValueError(f"{self.name} has no {fmt!r} rate; it has {sorted(self.macs_per_cycle)}")
        if sparse and not self.sparse:
            raise ValueError(f"{self.name} has no 2:4 sparse mode")
        return self.sm_count * self.macs_per_cycle[fmt] * (2 if sparse else 1)


@dataclass(frozen=True)
class SystolicArray:
    """TPU-style rows x cols MAC array with a dataflow (SCALE-Sim's OS/WS/IS); one MAC per PE per
    clock for each of its formats."""

    name: str
    rows: int
    cols: int
    dataflow: Dataflow = Dataflow.WS
    formats: tuple = ("int8",)
    accumulator: str = "int32"

    def __post_init__(self) -> None:
        _check_positive(self, "rows", "cols")
        if not isinstance(self.dataflow, Dataflow):
            raise TypeError(f"SystolicArray.dataflow must be a Dataflow, got {self.dataflow!r}")
        _check_rates(self, {f: 1 for f in self.formats}, "formats")
        from numerics import get_accumulator
        get_accumulator(self.accumulator)

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        if fmt not in self.formats:
            raise ValueError(f"{self.name} has no {fmt!r}; it computes {list(self.formats)}")
        if sparse:
            raise ValueError(f"{self.name} has no 2:4 sparse mode")
        return self.rows * self.cols


@dataclass(frozen=True)
class Design:
    """A design point: a clock, one compute unit, and the memory levels from the closest outwards
    (none: compute only)."""

    name: str
    clock_hz: float
    unit: TensorCore | SystolicArray
    memories: tuple

    def __post_init__(self) -> None:
        _check_positive(self, "clock_hz")
        if not isinstance(self.unit, TensorCore | SystolicArray):
            raise TypeError(f"Design.unit must be a TensorCore or SystolicArray, got {type(self.unit).__name__}")
        if not isinstance(self.memories, tuple) or not all(isinstance(m, MemoryLevel) for m in self.memories):
            raise ValueError("Design.memories must be a tuple of MemoryLevel")

    def peak_ops_per_s(self, fmt: str, sparse: bool = False) -> float:
        """Datasheet-style peak: 2 ops per MAC x MACs per clock x clock."""
        return 2.0 * self.unit.macs_per_clock(fmt, sparse) * self.clock_hz

    # -- TOML ------------------------------------------------------------------------------------
    def to_toml(self) -> str:
        u = self.unit
        lines = ["[design]", f'name = "{self.name}"', f"clock_hz = {self.clock_hz!r}", ""]
        if isinstance(u, TensorCore):
            lines += ["[unit]", 'kind = "tensor_core"', f'name = "{u.name}"', f"sm_count = {u.sm_count}",
                      f"sparse = {str(u.sparse).lower()}", f'accumulator = "{u.accumulator}"', "",
                      "[unit.macs_per_cycle]"] + [f'"{k}" = {v}' for k, v in u.macs_per_cycle.items()]
        else:
            fmts = ", ".join(f'"{f}"' for f in u.formats)
            lines += ["[unit]", 'kind = "systolic_array"', f'name = "{u.name}"', f"rows = {u.rows}",
                      f"cols = {u.cols}", f'dataflow = "{u.dataflow.value}"', f"formats = [{fmts}]",
                      f'accumulator = "{u.accumulator}"']
        for m in self.memories:
            lines += ["", "[[memories]]", f'name = "{m.name}"', f"size_bytes = {m.size_bytes}",
                      f"bandwidth_bytes_per_s = {m.bandwidth_bytes_per_s!r}"]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str) -> "Design":
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"design TOML does not parse: {err}") from None
        try:
            d, u = doc["design"], dict(doc["unit"])
            kind = u.pop("kind")
            if kind == "tensor_core":
                unit = TensorCore(**u)
            elif kind == "systolic_array":
                u["dataflow"] = Dataflow(u.get("dataflow", "ws"))
                u["formats"] = tuple(u.get("formats", ("int8",)))
                unit = SystolicArray(**u)
            else:
                raise ValueError(f"unit.kind must be 'tensor_core' or 'systolic_array', got {kind!r}")
            mems = tuple(MemoryLevel(**m) for m in doc.get("memories", ()))
            return cls(name=d["name"], clock_hz=d["clock_hz"], unit=unit, memories=mems)
        except KeyError as err:
            raise ValueError(f"design TOML lacks {err}") from None
        except TypeError as err:
            raise ValueError(f"design TOML has an unexpected field: {err}") from None

    def replace(self, **changes) -> "Design":
        return dataclasses.replace(self, **changes)


def load_design(path: str) -> Design:
    """A Design from a TOML file."""
    with open(path, encoding="utf-8") as fh:
        return Design.from_toml(fh.read())
