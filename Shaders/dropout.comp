#version 450
// Inverted dropout with a counter-based mask, over one chunk of n elements that starts at global
// element `start` of the tensor: for global index g = start + i,
//   h = lowbias32(lowbias32(g ^ key) + key);  keep = float(h >> 8) * 2^-24 >= p;
//   o[i] = keep ? x[i] * s : 0.
// `key` is Dropout.key(seed:) and `s` is Dropout.scale(probability:) from the host
// (Sources/IFTCore/Dropout.swift, which defines the mask). float(h >> 8) * 2^-24 is exact.
// `o` may alias `x`. Grid-stride over n elements. CPU reference: Sources/IFTCPU/Reference/Dropout.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
    uint start;
    uint key;
    float p;
    float s;
} pc;

// Chris Wellons' lowbias32.
uint lowbias32(uint v) {
    v ^= v >> 16;
    v *= 0x7feb352du;
    v ^= v >> 15;
    v *= 0x846ca68bu;
    v ^= v >> 16;
    return v;
}

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        uint h = lowbias32(lowbias32((pc.start + i) ^ pc.key) + pc.key);
        bool keep = float(h >> 8) * 5.9604644775390625e-8 >= pc.p;
        precise float v = x[i] * pc.s;
        o[i] = keep ? v : 0.0;
    }
}
