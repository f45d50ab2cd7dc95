"""cocotb test: the E4M3 x E4M3 -> FP32 multiplier against lowbit, exhaustively (all 65,536 input pairs)."""

import cocotb
import numpy as np
from cocotb.triggers import Timer

import numerics as nx
from numerics.testing import assert_codes_equal


@cocotb.test()
async def every_pair_matches_lowbit(dut):
    e4, f32 = nx.get_format("e4m3"), nx.get_format("fp32")
    a = np.repeat(np.arange(256), 256).astype(np.uint8)
    b = np.tile(np.arange(256), 256).astype(np.uint8)
    with np.errstate(invalid="ignore"):
        expected = f32.encode(e4.decode(a) * e4.decode(b))  # exact in float64, exact in FP32
    got = np.empty(a.size, np.uint32)
    for i in range(a.size):
        dut.a.value = int(a[i])
        dut.b.value = int(b[i])
        await Timer(1, unit="ns")
        got[i] = int(dut.y.value)
    assert_codes_equal(got, expected, f32, inputs=[f"{x:02X}*{y:02X}" for x, y in zip(a, b)])
