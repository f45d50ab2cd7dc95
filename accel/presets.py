"""Named design points. Unit parameters come from the vendors' published architecture facts so that
`peak_ops_per_s` reproduces the datasheet peaks listed in DESIGN.md (tests check it); memory levels carry
their published sizes and bandwidths and energies from accel.energy's rules (each cited there)."""

import dataclasses
import math

from .design import Design, MemoryLevel, SparseTensorCore, SystolicArray
from .energy import DRAM_PJ_PER_BYTE  # noqa: F401 - DRAM_PJ_PER_BYTE re-exported
from .interconnect import Interconnect
from .memory_model import DRAM_PJ_PER_BIT, sram_bank_bytes, sram_pj_per_byte
from .ops import KernelCost
from .systolic import Dataflow

_GB = 1e9
_KB, _MB, _GiB = 1024, 1024**2, 1024**3
_DESIGNS: dict[str, Design] = {}

# CUDA C++ Programming Guide, "Shared Memory" (compute capability 5.x and later): 32 banks of 32 bits,
# one access per bank per clock -> 128 bytes per clock per SM.
_SMEM_BYTES_PER_CLK = 32 * 4


def _register(d: Design) -> None:
    _DESIGNS[d.name] = d


def design_names() -> list[str]:
    return list(_DESIGNS)


def get_design(name: str) -> Design:
    """A preset by name (design_names() lists them)."""
    if not isinstance(name, str):
        raise TypeError(f"design name must be a str, got {type(name).__name__}")
    d = _DESIGNS.get(name)
    if d is None:
        import difflib
        close = difflib.get_close_matches(name, _DESIGNS, n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else f"; the presets are {', '.join(_DESIGNS)}"
        raise ValueError(f"unknown design {name!r}{hint} (design_names() lists all)")
    return d


def _sram(name: str, size: int, bw: float, node_nm: float, instances: int = 1) -> MemoryLevel:
    # technology "sram": the energy follows capacity and word (accel.memory_model's CACTI fit); the field
    # energy_pj_per_byte shows the fit's value at the preset's own size (its 1 MiB banks beyond that) and
    # the default 64-bit word
    return MemoryLevel(name, size, bw, sram_pj_per_byte(sram_bank_bytes(size, 8), 8, node_nm), instances,
                       technology="sram")


def _dram(name: str, size: int, bw: float, tech: str, sustained: float = 1.0) -> MemoryLevel:
    """A DRAM level of a technology (accel.memory_model.DRAM_PJ_PER_BIT, each figure cited there)."""
    return MemoryLevel(name, size, bw, DRAM_PJ_PER_BIT[tech] * 8, technology=tech, sustained_fraction=sustained)


def _gpu_memories(sms: int, clock: float, node: float, smem: int, l2: int, l2_bw: float, hbm: int,
                  hbm_bw: float, tech: str, hbm_sustained: float = 1.0) -> tuple:
    return (_sram("smem", smem, _SMEM_BYTES_PER_CLK * clock, node, sms),
            _sram("l2", l2, l2_bw, node),
            _dram("hbm", hbm, hbm_bw, tech, hbm_sustained))


# NVIDIA A100 SXM (A100 Tensor Core GPU Architecture whitepaper, 2020): 108 SMs at 1410 MHz boost, 4
# tensor cores per SM, each 256 FP16 FMA/clock dense (1024 per SM; INT8 twice that, INT4 four times,
# TF32 half); 2:4 sparsity doubles each. Peaks: FP16 312 / 624 TFLOPS, INT8 624 / 1,248 TOPS, TF32
# 156 / 312. Up to 164 KB shared memory per SM (Table 5); 40 MB L2 read at 5120 bytes/clk (p. 35); HBM2e
# 80 GB at 2,039 GB/s (A100 80GB SXM datasheet). TSMC N7. Tile 128 x 256 x 32 with 64 x 64 warp tiles:
# CUTLASS's default SM80 FP16 tensor-op GEMM configuration; mma.m16n8k16 (PTX ISA).
# GEMM kernel mechanisms (accel.gemm_model), fitted by scripts/calibrate_llmcompass.py on four rows of
# LLMCompass's A100 FP16 matmul table (accel/data/llmcompass/matmul_A100.csv: 8192x64x64 fixes the
# launch floor, 8192x256x256 the per-tile latency, 16384x12288x12288 and 8192x16384x16384 the main-loop
# efficiency); the other 16 rows are predictions (docs/validation.md): launch_s 28.3 us (host dispatch,
# launch and synchronisation of one torch.bmm call), tile_latency_s 0.72 us (a tile's prologue: its first
# loads from HBM), kernel_efficiency 0.943 (cuBLAS sustains 287-293 TFLOPS on large GEMMs). Tiles: the
# CUTLASS SM80 FP16 tensor-op configurations (cutlass_library generator.py, GenerateSM80_TensorOp_16816:
# 128x256, 256x128, 256x64, 64x256, 128x128, 128x64, 64x128, 64x64, K step 32).
# 2:4-sparse efficiency 0.70: PyTorch's tutorial "Accelerating BERT with semi-structured (2:4) sparsity"
# (pytorch/tutorials advanced_source/semi_structured_sparse.py, A100 80GB: nn.Linear(10240, 3072) on
# 3072 x 10240 FP16, 0.870 ms dense / 0.630 ms sparse = 1.381x). With the dense mechanisms above the
# sparse kernel is L2-bound at 1.379x for any efficiency from 0.70 to 0.758 (above that it jumps to
# compute-bound and 1.46x): the ratio fixes only that range, and 0.70 is its low end.
# That tutorial's absolute dense time is 18 % slower than these mechanisms predict (0.716 ms; 222 against
# LLMCompass's 287-293 TFLOPS): the two A100 measurement sets disagree, docs/validation.md says so.
_A100_CLK = 1.41e9

# Element-wise kernels, fitted by scripts/calibrate_llmcompass.py on LLMCompass's A100 tables (accel/data/
# llmcompass: softmax_A100.csv eager torch.softmax, layernorm_A100.csv and gelu_A100.csv torch.compile'd,
# all FP16): per kind the launch floor, the sustained fraction of HBM bandwidth and the kernel floor that
# minimise the largest error over that table; layer norm's rows longer than 16 KB are read three times
# (rows of 32 and 64 KB take twice as long as rows of 16 KB). No measurement exists for RMS norm, SiLU and
# the residual add: they take the constants of the closest measured kernel (layer norm; GELU; GELU).
_LN = KernelCost(launch_s=44.6e-6, bandwidth_fraction=0.89, floor_s=6.5e-6, row_buffer_bytes=16 * _KB)
_GELU = KernelCost(launch_s=38.7e-6, bandwidth_fraction=0.78, floor_s=9.0e-6)
_A100_ELEMENTWISE = {"softmax": KernelCost(launch_s=13.1e-6, bandwidth_fraction=0.515, floor_s=1.0e-6),
                     "layernorm": _LN, "rmsnorm": _LN, "gelu": _GELU, "silu": _GELU, "add": _GELU}

# Collectives: NCCL's protocols over four NVLink-3 A100s, each a (latency per ring step, share of the link
# bandwidth) fitted by scripts/calibrate_llmcompass.py on LLMCompass's NCCL all-reduce (ae/figure5/h/
# test_allreduce.py, vendored as allreduce_A100.csv) through two sizes at the ends of the range where the
# protocol is the fastest (accel.llmcompass.ALLREDUCE_FIT_BYTES): Simple (the bulk protocol: 64 MiB and
# 16 GiB), LL128 (256 KiB and 4 MiB), LL (8 B and 32 KiB). The other 26 sizes are predictions
# (validation.md). Link energy: 1.3 pJ/bit, the only NVLink energy NVIDIA publishes (NVLink-C2C, NVIDIA
# Grace Hopper Superchip Architecture whitepaper, 2022): a lower bound for board-level links.
_NVLINK_LATENCY_S = 16.99e-6
_NVLINK_FRACTION = 0.780
_NVLINK_PROTOCOLS = {"ll128": (5.446e-6, 0.4027), "ll": (2.086e-6, 0.02190)}
_NVLINK_PJ_PER_BYTE = 1.3 * 8


def _nvlink(name: str, links: int, per_link: float) -> Interconnect:
    return Interconnect(name, links, per_link, _NVLINK_LATENCY_S, _NVLINK_PJ_PER_BYTE, _NVLINK_FRACTION,
                        dict(_NVLINK_PROTOCOLS))


# NVLink 3 (A100 whitepaper): 12 links of 25 GB/s per direction, 600 GB/s in all.
_SM80_TILES = ((256, 128), (256, 64), (64, 256), (128, 128), (128, 64), (64, 128), (64, 64))
_register(Design(
    name="a100-like", clock_hz=_A100_CLK, node_nm=7.0,
    unit=SparseTensorCore(name="a100-tc", sm_count=108,
                          macs_per_cycle={"fp16": 1024, "bf16": 1024, "tf32": 512, "int8": 2048, "int4": 4096},
                          accumulator={"default": "nv_ampere", "int8": "int32", "int4": "int32"},
                          tile_m=128, tile_n=256, tile_k=32, warp_m=64, warp_n=64, instruction=(16, 8, 16),
                          kernel_efficiency=0.943, sparse_kernel_efficiency=0.70, launch_s=28.3e-6,
                          tile_latency_s=0.72e-6, tile_shapes=_SM80_TILES),
    # HBM sustained fraction: the layer-norm kernel's fitted share of the datasheet bandwidth (_LN above,
    # the highest any LLMCompass A100 kernel reaches): GEMMs that stream their weights reach the same DRAM
    memories=_gpu_memories(108, _A100_CLK, 7.0, 164 * _KB, 40 * _MB, 5120 * _A100_CLK, 80 * _GiB, 2039 * _GB,
                            "hbm2e", _LN.bandwidth_fraction),
    elementwise=_A100_ELEMENTWISE, interconnect=_nvlink("nvlink3", 12, 25 * _GB)))

# NVIDIA H100 SXM5 (H100 Tensor Core GPU Architecture whitepaper, 2022): 132 SMs, 4 tensor cores per
# SM each 512 FP16 FMA/clock dense (2048 per SM; FP8 and INT8 twice that); the datasheet peaks
# (FP16 989 / 1,979, FP8 1,979 / 3,958 TFLOPS) correspond to a 1.83 GHz clock: 2 x 132 x 2048 x
# 1.83e9 = 989.4e12. 228 KB shared memory per SM and 50 MB L2 (whitepaper); NVIDIA publishes no L2
# bandwidth, so the L2 level models reuse and energy only (bandwidth inf). HBM3 80 GB at 3,350 GB/s (H100
# SXM datasheet). TSMC 4N (a 5 nm-class node). Tile 128 x 256 computed by two warpgroups of wgmma
# m64n256 (PTX ISA, wgmma.mma_async shapes), reading operands from shared memory.
# Timing mechanisms (GEMM main-loop efficiency, launch floor, tile latency; element-wise kernels;
# collective latency and bandwidth share): A100's, fitted above. No H100 or B200 measurement was used, so
# these presets are hypotheses to check. NVLink 4 (H100 whitepaper): 18 links of 25 GB/s per direction
# (900 GB/s in all); NVLink 5 (HGX B200 datasheet): 18 links of 50 GB/s per direction (1.8 TB/s in all).
_A100_MECHANISMS = {"kernel_efficiency": 0.943, "launch_s": 28.3e-6, "tile_latency_s": 0.72e-6}
_H100_CLK = 1.83e9
_register(Design(
    name="h100-like", clock_hz=_H100_CLK, node_nm=5.0,
    unit=SparseTensorCore(name="h100-tc", sm_count=132,
                          macs_per_cycle={"fp16": 2048, "bf16": 2048, "tf32": 1024, "e4m3": 4096, "e5m2": 4096,
                                          "int8": 4096},
                          accumulator={"default": "nv_hopper", "e4m3": "nv_hopper_fp8", "e5m2": "nv_hopper_fp8",
                                       "int8": "int32"},
                          tile_m=128, tile_n=256, tile_k=64, warp_m=64, warp_n=256, instruction=(64, 256, 16),
                          **_A100_MECHANISMS, tile_shapes=((256, 128), (128, 128), (128, 64), (64, 256), (64, 128))),
    memories=_gpu_memories(132, _H100_CLK, 5.0, 228 * _KB, 50 * _MB, math.inf, 80 * _GiB, 3350 * _GB, "hbm3"),
    elementwise=_A100_ELEMENTWISE, interconnect=_nvlink("nvlink4", 18, 25 * _GB)))

# NVIDIA H200 SXM (H200 Tensor Core GPU datasheet, 2024): the H100 SXM's tensor-core peaks (FP16 989 /
# 1,979, FP8 1,979 / 3,958 TFLOPS: the same GH100 compute, 132 SMs at the same 1.83 GHz-equivalent clock)
# with 141 GB HBM3e at 4.8 TB/s. L2: 60 MiB (cudaDeviceProp.l2CacheSize = 62,914,560 B, read on an H200 by
# scripts/h200_record.py; accel/data/h200/). Every timing mechanism is A100's (fitted above on LLMCompass's
# A100 rows); no H200 measurement was fitted: the H200 kernel times recorded in accel/data/h200/ are
# predictions of this preset (docs/validation.md).
_register(Design(
    name="h200-like", clock_hz=_H100_CLK, node_nm=5.0,
    unit=dataclasses.replace(_DESIGNS["h100-like"].unit, name="h200-tc"),
    memories=_gpu_memories(132, _H100_CLK, 5.0, 228 * _KB, 62_914_560, math.inf, 141 * 10**9, 4800 * _GB,
                            "hbm3e"),
    elementwise=_A100_ELEMENTWISE, interconnect=_nvlink("nvlink4", 18, 25 * _GB)))

# NVIDIA B200 (HGX B200 datasheet: FP4 9 / 18 PFLOPS dense / sparse, FP8 4.5 / 9, FP16 2.25 / 4.5, HBM3e
# 8 TB/s, 180 GB): 148 SMs (CUDA device properties of B200). Blackwell doubles Hopper's per-SM tensor rate
# (FP16 4096, FP8 8192, FP4 16384 MAC/clock/SM); the datasheet peaks then fix the clock at
# 4.5e15 / (2 x 148 x 8192) = 1.856 GHz. L2: 126.5 MiB (cudaDeviceProp.l2CacheSize = 132,644,864 B);
# bandwidth unpublished (inf). Shared memory 228 KB per SM as on Hopper (Blackwell tuning guide). TSMC 4NP.
# Tile 128 x 256 per SM: one tcgen05.mma of M = 128, N = 256 (PTX ISA) reading both operands from shared
# memory and accumulating in tensor memory. No INT4 rate, deliberately: the datasheet's tensor-core table
# lists FP4, FP6, FP8, INT8, FP16 / BF16, TF32 and FP64 only, and tcgen05.mma has no 4-bit integer kind
# (.kind::f16, tf32, f8f6f4, i8, mxf8f6f4, mxf4, mxf4nvf4). W4A8 (int4_g128_e4m3) runs on Blackwell as
# INT4 weights dequantised to FP8 / INT8 before the MMA (Marlin-style), which this preset does not time,
# so such a Gemm is a ValueError ("b200-tc has no 'int4' rate"), not an invented rate.
_B200_CLK = 4.5e15 / (2 * 148 * 8192)
_register(Design(
    name="b200-like", clock_hz=_B200_CLK, node_nm=4.0,
    unit=SparseTensorCore(name="b200-tc", sm_count=148,
                          macs_per_cycle={"fp16": 4096, "bf16": 4096, "e4m3": 8192, "e5m2": 8192, "e2m1": 16384,
                                          "int8": 8192},
                          accumulator={"default": "nv_blackwell", "mxfp8_e4m3": "nv_blackwell_mx",
                                       "mxfp8_e5m2": "nv_blackwell_mx", "mxfp4": "nv_blackwell_mx",
                                       "nvfp4": "nv_blackwell_nvfp4", "e2m1": "nv_blackwell_mx", "int8": "int32",
                                       # issue #20: UE5M3-scaled NVFP4 as NVFP4; FP32-scaled FP8 blocks
                                       # (DeepSeek-V3) summed in FP32 outside the tensor core
                                       "nvfp4_ue5m3": "nv_blackwell_nvfp4", "fp8_b128": "fp32"},
                          tile_m=128, tile_n=256, tile_k=128, warp_m=128, warp_n=256, instruction=(128, 256, 16),
                          **_A100_MECHANISMS, tile_shapes=((256, 128), (128, 128), (128, 64))),
    memories=_gpu_memories(148, _B200_CLK, 4.0, 228 * _KB, 132_644_864, math.inf, 180 * 10**9, 8000 * _GB,
                            "hbm3e"),
    elementwise=_A100_ELEMENTWISE, interconnect=_nvlink("nvlink5", 18, 50 * _GB)))


# AMD presets, from datasheets only (a preset is a hypothesis, not a fit). Their timing mechanisms are
# A100's (fitted above on NVIDIA measurements; none is fitted to an AMD chip): GEMM main-loop efficiency,
# launch floor and tile latency, element-wise kernel costs, collective latency and bandwidth share. The
# tiles are rocBLAS/hipBLASLt-style macro tiles; the wave tile 64 x 64 of MFMA 32x32x8 instructions (AMD
# CDNA ISA). Local data share 64 KB per CU at 128 B/clock (the model's shared-memory rule); L2 / Infinity
# Cache bandwidth unpublished in the datasheets: inf (reuse and energy only). Link energy: NVLink-C2C's
# 1.3 pJ/bit as for the NVIDIA presets (AMD publishes none).
_CDNA_TILES = ((256, 128), (128, 128), (128, 64), (64, 128), (64, 64))

# AMD Instinct MI210 (MI210 datasheet; "AMD CDNA 2 Architecture" whitepaper, 2021): 104 CUs at 1,700 MHz
# peak engine clock; FP16 / BF16 / INT8 matrix 181 TFLOPS/TOPS = 2 x 104 x 512 MAC/clock/CU x 1.7 GHz,
# FP32 matrix 45.3; 64 GB HBM2e at 1,638.4 GB/s; 8 MB L2; 3 Infinity Fabric links, 300 GB/s peer-to-peer
# in all (50 GB/s per link per direction). TSMC N6. No published accumulator model for CDNA2: fp32.
_MI210_CLK = 1.7e9
_register(Design(
    name="mi210-like", clock_hz=_MI210_CLK, node_nm=6.0,
    unit=SparseTensorCore(name="mi210-mfma", sm_count=104,
                          macs_per_cycle={"fp16": 512, "bf16": 512, "int8": 512, "fp32": 128},
                          accumulator={"default": "fp32", "int8": "int32"},
                          tile_m=128, tile_n=128, tile_k=32, warp_m=64, warp_n=64, instruction=(32, 32, 8),
                          **_A100_MECHANISMS, tile_shapes=_CDNA_TILES),
    memories=_gpu_memories(104, _MI210_CLK, 6.0, 64 * _KB, 8 * _MB, math.inf, 64 * _GiB, 1638.4 * _GB,
                            "hbm2e"),
    elementwise=_A100_ELEMENTWISE,
    interconnect=Interconnect("infinity_fabric_cdna2", 3, 50 * _GB, _NVLINK_LATENCY_S, _NVLINK_PJ_PER_BYTE,
                              _NVLINK_FRACTION, dict(_NVLINK_PROTOCOLS))))

# AMD Instinct MI300X (MI300X datasheet; "AMD CDNA 3 Architecture" whitepaper, 2023): 304 CUs at 2,100 MHz
# peak; FP16 / BF16 1,307.4 TFLOPS dense (2,614.9 with sparsity) = 2 x 304 x 1024 MAC/clock/CU x 2.1 GHz,
# FP8 and INT8 2,614.9 dense (5,229.8 sparse); 192 GB HBM3 at 5.3 TB/s; 256 MB Infinity Cache; 7 Infinity
# Fabric links, 896 GB/s peer-to-peer in all (64 GB/s per link per direction). TSMC N5 compute dies.
# Accumulation: lowbit's CDNA3 presets (accumulators.md).
_MI300X_CLK = 2.1e9
_register(Design(
    name="mi300x-like", clock_hz=_MI300X_CLK, node_nm=5.0,
    unit=SparseTensorCore(name="mi300x-mfma", sm_count=304,
                          macs_per_cycle={"fp16": 1024, "bf16": 1024, "e4m3fnuz": 2048, "e5m2fnuz": 2048,
                                          "e4m3": 2048, "e5m2": 2048, "int8": 2048},
                          accumulator={"default": "amd_cdna3", "e4m3fnuz": "amd_cdna3_fp8",
                                       "e5m2fnuz": "amd_cdna3_fp8", "e4m3": "amd_cdna3_fp8",
                                       "e5m2": "amd_cdna3_fp8", "int8": "int32"},
                          tile_m=128, tile_n=128, tile_k=32, warp_m=64, warp_n=64, instruction=(32, 32, 8),
                          **_A100_MECHANISMS, tile_shapes=_CDNA_TILES),
    memories=_gpu_memories(304, _MI300X_CLK, 5.0, 64 * _KB, 256 * _MB, math.inf, 192 * 10**9, 5300 * _GB,
                            "hbm3"),
    elementwise=_A100_ELEMENTWISE,
    interconnect=Interconnect("infinity_fabric_cdna3", 7, 64 * _GB, _NVLINK_LATENCY_S, _NVLINK_PJ_PER_BYTE,
                              _NVLINK_FRACTION, dict(_NVLINK_PROTOCOLS))))

def _feed_bandwidth(rows: int, cols: int, clock: float) -> float:
    """On-chip buffer bandwidth sized to feed a systolic array every clock: one 8-bit input per row in
    and one 32-bit partial sum per column out (the model's rule for buffers whose width is unpublished)."""
    return (rows + 4 * cols) * clock


# Google TPU v1 (Jouppi et al., ISCA 2017): 256 x 256 INT8 MACs at 700 MHz = 92 TOPS, weight
# stationary; 24 MiB unified buffer (activations) and 8 GiB of DDR3 at 34 GB/s; 28 nm.
_register(Design(
    name="tpu-v1-like", clock_hz=700e6, node_nm=28.0,
    unit=SystolicArray(name="tpu-v1-mxu", rows=256, cols=256, dataflow=Dataflow.WS, formats_per_pe={"int8": 1}),
    memories=(_sram("unified_buffer", 24 * _MB, _feed_bandwidth(256, 256, 700e6), 28.0),
              _dram("ddr3", 8 * _GiB, 34 * _GB, "ddr3"))))

# An edge NPU modelled on Samsung's 4 nm mobile NPU (Park et al., ISSCC 2022 / IEEE JSSC 58(1) 2023:
# 8K INT8 MACs in two cores of 4096, 1 MB TCM per core, INT4/8/16 and FP16 in one datapath) as a
# 64 x 128 weight-stationary array. INT4 runs at twice the INT8 rate (a split 8-bit multiplier, as in
# NVIDIA's INT4 = 2 x INT8 tensor-core rates: A100 datasheet INT4 1,248 vs INT8 624 TOPS). The 1 GHz
# clock is this design point's choice, not the paper's; LPDDR5-6400 on a 64-bit bus = 51.2 GB/s (JEDEC
# JESD209-5) at LPDDR5's energy per bit (accel.memory_model; Horowitz's DDR3 figure before issue #17).
_register(Design(
    name="edge-npu", clock_hz=1e9, node_nm=4.0,
    unit=SystolicArray(name="edge-npu", rows=64, cols=128, dataflow=Dataflow.WS,
                       formats_per_pe={"int8": 1, "int4": 2}),
    memories=(_sram("tcm", 2 * _MB, _feed_bandwidth(64, 128, 1e9), 4.0),
              _dram("lpddr", 8 * _GiB, 51.2 * _GB, "lpddr5"))))

# IBM HERMES (Le Gallo et al., Nat. Electron. 6, 680, 2023): 64 cores of 256 x 256 PCM weights on differential
# pairs (512 physical columns) in 14 nm CMOS, 8-bit PWM inputs and 8-bit outputs through one CCO-based ADC per
# weight column; 1 GHz digital clock. A component macro (accel.analog.macros.HERMES: its constants, its one
# calibration point, the chip's one-phase 63.1 TOPS and 9.76 TOPS/W, and their sources); the four-phase mode
# (read_phases = 4: 16.1 TOPS, 2.48 TOPS/W) and the HERMES core's own figures (Khaddam-Aljameh et al., IEEE
# JSSC 57(4), 2022) are predictions (docs/validation.md).
from .analog import Crossbar  # noqa: E402 - the analog unit is defined after the digital ones

_register(Design(
    name="hermes-like", clock_hz=1e9,
    unit=Crossbar(rows=256, cols=512, device="pcm", g_max_us=25.0, dac_bits=8, adc_bits=8, cores=64,
                  node_nm=14.0, periphery="hermes", name="hermes-core")))

# A 32 x 32 output-stationary array for comparison with SCALE-Sim's compute cycles (DESIGN.md's
# reference numbers); compute only (no memory levels); the 1 GHz clock only converts cycles to seconds.
_register(Design(
    name="scalesim-32x32", clock_hz=1e9,
    unit=SystolicArray(name="scalesim-32x32", rows=32, cols=32, dataflow=Dataflow.OS,
                       formats_per_pe={"int8": 1}),
    memories=()))

# --- Compute-in-memory macros as component sums (accel.analog.macros: each periphery's constants, its one
# calibration point and its sources are documented there; docs/validation.md lists every other published
# figure as a prediction). Knobs: unit.dac_bits (input bits + 1: lowbit's inputs are signed, so a paper's
# unsigned N-bit input is dac_bits = N + 1; NeuRRAM's inputs are signed as lowbit's), unit.adc_bits,
# unit.input_phases, unit.weight_bits, unit.vdd_v.
# NeuRRAM (Wan et al., Nature 2022): 48 cores of 256 x 256 RRAM, 130 nm, 4-bit weights on differential pairs,
# 4-bit inputs, 6-bit outputs at the calibration point; g_max 40 uS (the RRAM model's reference). Its 0.5 V read
# pulses are inside the calibrated driver energy (the periphery's pulse_s is 0), so v_read stays at its default,
# which this periphery never reads.
_register(Design(
    name="neurram-like", clock_hz=1e9,
    unit=Crossbar(rows=256, cols=256, device="rram", g_max_us=40.0, dac_bits=4, adc_bits=6, weight_bits=4,
                  bits_per_cell=4, cores=48, node_nm=130.0, periphery="neurram",
                  name="neurram-core")))
# Jia et al., JSSC 2020: 768 x 768 SRAM bit cells (three 768-row segments folded onto 256 ADCs), 65 nm, 0.85 V,
# bit-serial 1-bit inputs (dac_bits 2) and 1-bit weights at the calibration point, 8-bit SAR ADCs.
_register(Design(
    name="jia-sram-like", clock_hz=1e9,
    unit=Crossbar(rows=2304, cols=256, device="sram", dac_bits=2, adc_bits=8, input_mode="bit_serial",
                  mapping="offset", weight_bits=1, bits_per_cell=1, cores=1, node_nm=65.0, periphery="jia",
                  name="jia-cimu")))
# Sinangil et al., JSSC 2021: 64 x 64 SRAM, 7 nm, 0.8 V, 4-bit PWM inputs (dac_bits 5), 4-bit weights on 4 cells,
# 4-bit outputs.
_register(Design(
    name="sinangil-sram-like", clock_hz=1e9,
    unit=Crossbar(rows=64, cols=64, device="sram", dac_bits=5, adc_bits=4, mapping="offset", weight_bits=4,
                  bits_per_cell=1, cores=1, node_nm=7.0, periphery="sinangil", name="sinangil-macro")))
# Wang et al., VLSI 2022 / JSSC 2023: C-2C ladder SRAM macro, 22 nm, 1.0 V, 8-bit voltage-DAC inputs (dac_bits
# 9), 8-bit weights on 8-cell C-2C ladders, 8-bit SAR outputs.
_register(Design(
    name="wang-c2c-like", clock_hz=1e9,
    unit=Crossbar(rows=64, cols=128, device="sram", dac_bits=9, adc_bits=8, mapping="offset", weight_bits=8,
                  bits_per_cell=1, cores=1, node_nm=22.0, periphery="wang-c2c", name="wang-c2c-macro")))
