#version 450
// 2-D strided copy of f32: dst[dstOff + r * dstStride + c] = src[srcOff + r * srcStride + c] for
// r < rows, c < cols (KV-cache writes, head re-layouts). src and dst may be the same buffer when
// the ranges do not overlap (the host rejects overlapping copies). Grid-stride over rows * cols.
// CPU reference: Sources/IFTCPU/Reference/Copy.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Src { float src[]; };
layout(set = 0, binding = 1) writeonly buffer Dst { float dst[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint srcOff;
    uint srcStride;
    uint dstOff;
    uint dstStride;
} pc;

void main() {
    uint total = pc.rows * pc.cols;
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < total; i += stride) {
        uint r = i / pc.cols;
        uint c = i - r * pc.cols;
        dst[pc.dstOff + r * pc.dstStride + c] = src[pc.srcOff + r * pc.srcStride + c];
    }
}
