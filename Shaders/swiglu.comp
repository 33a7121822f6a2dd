#version 450
// out[i] = (g / (1 + exp(-g))) * up[i], g = gate[i]: SiLU(gate) * up, in fp32 (Llama's MLP).
// `out` may alias gate or up. Grid-stride over n elements.
// CPU reference: Sources/IFTCPU/Reference/SwiGLU.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Gate { float gate[]; };
layout(set = 0, binding = 1) readonly buffer Up { float up[]; };
layout(set = 0, binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        float g = gate[i];
        o[i] = (g / (1.0 + exp(-g))) * up[i];
    }
}
