"""Links between devices and the collectives of tensor parallelism.

A ring all-reduce of S bytes over p devices runs 2(p - 1) steps (reduce-scatter, then all-gather), each
sending S/p bytes to the next device over all of a device's links at once:

    seconds = 2 (p - 1) latency_s + 2 (p - 1) / p x S / (links x bandwidth_per_link x bandwidth_fraction)

(Patarasuk and Yuan, "Bandwidth optimal all-reduce algorithms for clusters of workstations", JPDC 2009;
NCCL's ring algorithm). `latency_s` is one step's fixed cost (synchronisation and the link's latency) and
`bandwidth_fraction` the share of the datasheet link bandwidth a collective sustains; both are fitted to
a measurement (see the presets).

Protocols. NCCL moves a collective's data with one of several protocols and picks, per message size, the
one its cost model says finishes first (NVIDIA/nccl `src/graph/tuning.cc`: a latency and a bandwidth per
algorithm and protocol, time = latency + bytes / bandwidth, the minimum chosen). LL (8-byte lines of 4
data bytes and a flag) and LL128 (128-byte lines carrying 120) trade bandwidth for latency; Simple
(bulk copies with a fence per chunk) has the full bandwidth and the longest latency. `latency_s` and
`bandwidth_fraction` describe the bulk protocol; `protocols` lists the others as {name: (latency_s per
step, bandwidth_fraction)}, and the all-reduce takes the fastest. Each protocol's two constants are
effective ones, fitted on measured times (they also absorb how many channels NCCL opens at that size).
"""

import math
from dataclasses import dataclass, field

ALGORITHMS = ("ring",)
BULK = "simple"  # the name of the protocol that latency_s and bandwidth_fraction describe (NCCL's Simple)


@dataclass(frozen=True)
class Interconnect:
    """A device's links to its peers: `links` of `bandwidth_per_link_bytes_per_s` each per direction,
    `latency_s` per collective step and `bandwidth_fraction` sustained by the bulk protocol, the energy
    per byte sent over a link, and `protocols`: further protocols {name: (latency_s per step,
    bandwidth_fraction)} a collective may use instead (NCCL's LL and LL128; module docstring)."""

    name: str
    links: int
    bandwidth_per_link_bytes_per_s: float
    latency_s: float
    energy_pj_per_byte: float
    bandwidth_fraction: float = 1.0
    protocols: dict = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("Interconnect.name must be a non-empty str")
        if isinstance(self.links, bool) or not isinstance(self.links, int) or self.links < 1:
            raise ValueError(f"Interconnect.links must be a positive int, got {self.links!r}")
        for f in ("bandwidth_per_link_bytes_per_s", "energy_pj_per_byte"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
                raise ValueError(f"Interconnect.{f} must be a finite positive number, got {v!r}")
        v = self.latency_s
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
            raise ValueError(f"Interconnect.latency_s must be a finite number of seconds >= 0, got {v!r}")
        f = self.bandwidth_fraction
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 < f <= 1:
            raise ValueError(f"Interconnect.bandwidth_fraction must be in (0, 1], got {f!r}")
        if not isinstance(self.protocols, dict):
            raise TypeError(f"Interconnect.protocols must be a dict {{name: (latency_s, bandwidth_fraction)}}, "
                            f"got {type(self.protocols).__name__}")
        checked = {}
        for k, v in self.protocols.items():
            if not isinstance(k, str) or not k or k == BULK:
                raise ValueError(f"Interconnect.protocols: names must be non-empty str other than {BULK!r} "
                                 f"(the bulk protocol is latency_s / bandwidth_fraction), got {k!r}")
            if not isinstance(v, tuple | list) or len(v) != 2:
                raise ValueError(f"Interconnect.protocols[{k!r}] must be (latency_s, bandwidth_fraction), got {v!r}")
            lat, frac = v
            if isinstance(lat, bool) or not isinstance(lat, int | float) or not 0 <= lat < math.inf:
                raise ValueError(f"Interconnect.protocols[{k!r}] latency_s must be a finite number of seconds "
                                 f">= 0, got {lat!r}")
            if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 < frac <= 1:
                raise ValueError(f"Interconnect.protocols[{k!r}] bandwidth_fraction must be in (0, 1], got {frac!r}")
            checked[k] = (float(lat), float(frac))
        object.__setattr__(self, "protocols", checked)

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """All links together, one direction (the datasheet figure per direction)."""
        return self.links * self.bandwidth_per_link_bytes_per_s


@dataclass(frozen=True)
class AllReduce:
    """An all-reduce of `nbytes` (each device's buffer) over `devices` devices."""

    nbytes: int
    devices: int
    algorithm: str = "ring"
    name: str = "allreduce"

    def __post_init__(self) -> None:
        for f in ("nbytes", "devices"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"AllReduce.{f} must be a positive int, got {v!r}")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"AllReduce.algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")

    def describe(self) -> dict:
        return {"workload": self.name, "kind": "allreduce", "bytes": self.nbytes, "devices": self.devices,
                "algorithm": self.algorithm}


@dataclass(frozen=True)
class CollectiveTiming:
    seconds: float
    bound: str
    counts: dict
    protocol: str = ""  # the protocol that finishes first ("" on one device)


def allreduce_timing(design, nbytes: int, devices: int, algorithm: str = "ring") -> CollectiveTiming:
    """Ring all-reduce time of `nbytes` over `devices` devices of `design` (0 s on one device), in the
    fastest of the interconnect's protocols."""
    op = AllReduce(nbytes, devices, algorithm)
    if devices == 1:
        return CollectiveTiming(0.0, "none", {})
    ic = design.interconnect
    if ic is None:
        raise ValueError(f"design {design.name!r} has no interconnect; an all-reduce over {devices} devices "
                         "(tp > 1) needs Design.interconnect")
    p = op.devices
    sent = 2 * (p - 1) / p * nbytes  # bytes each device sends (and receives)
    best = None
    for name, (step_s, frac) in ((BULK, (ic.latency_s, ic.bandwidth_fraction)), *ic.protocols.items()):
        lat = 2 * (p - 1) * step_s
        xfer = sent / (ic.bandwidth_bytes_per_s * frac)
        if best is None or lat + xfer < best[0]:  # ties keep the earlier: the bulk protocol first
            best = (lat + xfer, name, ic.name if xfer >= lat else "link_latency")
    seconds, name, bound = best
    return CollectiveTiming(seconds, bound, {(ic.name, "byte"): sent}, name)
