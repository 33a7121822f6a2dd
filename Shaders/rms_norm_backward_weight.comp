#version 450
// Weight gradient of rms_norm, accumulated: dw[c] += sum over rows r (in order) of
// dy[r, c] * (x[r, c] * rstd[r]), with rstd from rms_norm_backward. One invocation per column
// (no atomics; deterministic, the same order as the CPU reference), grid-stride over columns.
// The host calls it once per band of rows, which keeps the order. fp32, rows x cols row-major.
// CPU reference: Sources/IFTCPU/Reference/RMSNormBackward.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) readonly buffer DY { float dy[]; };
layout(set = 0, binding = 2) readonly buffer Rstd { float rstd[]; };
layout(set = 0, binding = 3) buffer DW { float dw[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint c = IFT_GRID_START; c < pc.cols; c += stride) {
        float acc = dw[c];
        for (uint r = 0u; r < pc.rows; r++) {
            uint i = r * pc.cols + c;
            acc += dy[i] * (x[i] * rstd[r]);
        }
        dw[c] = acc;
    }
}
