`timescale 1ns/1ps
// E4M3 x E4M3 -> FP32 multiplier with an exact result (OCP OFP8 v1.0 E4M3 operands).
// Every product of two E4M3 values is exact in FP32: significands of 4 bits multiply into 8 bits, and
// exponents stay within [-18, 17]. NaN operands (S.1111.111) give the canonical FP32 quiet NaN.
// A worked example for verifying RTL against lowbit (see README.md); combinational.
module e4m3_mul (
    input  wire [7:0]  a,
    input  wire [7:0]  b,
    output reg  [31:0] y
);
    wire        sa = a[7], sb = b[7];
    wire [3:0]  ea = a[6:3], eb = b[6:3];
    wire [2:0]  ma = a[2:0], mb = b[2:0];
    wire        nan_a = (a[6:0] == 7'h7F);
    wire        nan_b = (b[6:0] == 7'h7F);
    // significand with the hidden bit (0 for subnormals) and the unbiased exponent of its LSB
    wire [3:0]  sig_a = {(ea != 0), ma};
    wire [3:0]  sig_b = {(eb != 0), mb};
    wire signed [7:0] lsb_a = ((ea == 0) ? 8'sd1 : {4'b0, ea}) - 8'sd10;   // 2^(e - 7) * 2^-3
    wire signed [7:0] lsb_b = ((eb == 0) ? 8'sd1 : {4'b0, eb}) - 8'sd10;
    wire [7:0]  p = sig_a * sig_b;
    reg  [2:0]  lead;
    reg  [7:0]  exp32;
    integer     i;
    always @* begin
        lead = 0;
        for (i = 0; i < 8; i = i + 1)
            if (p[i]) lead = i[2:0];
        exp32 = lsb_a + lsb_b + lead + 8'd127;
        if (nan_a || nan_b)
            y = 32'h7FC00000;
        else if (p == 0)
            y = {sa ^ sb, 31'b0};
        else
            y = {sa ^ sb, exp32, p[6:0] << (3'd7 - lead), 16'b0};
    end
endmodule
