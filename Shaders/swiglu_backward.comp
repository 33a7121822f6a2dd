#version 450
// Gradients of out = silu(gate) * up: s = 1 / (1 + exp(-g)), dup[i] = dout[i] * (g * s),
// dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s)), fp32. dgate may alias gate or dout, dup may
// alias up (each element is read before it is written). Grid-stride over n elements.
// CPU reference: Sources/IFTCPU/Reference/SwiGLUBackward.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Gate { float gate[]; };
layout(set = 0, binding = 1) readonly buffer Up { float up[]; };
layout(set = 0, binding = 2) readonly buffer DOut { float dout[]; };
layout(set = 0, binding = 3) writeonly buffer DGate { float dgate[]; };
layout(set = 0, binding = 4) writeonly buffer DUp { float dup[]; };

layout(push_constant) uniform Push {
    uint n;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        float g = gate[i], u = up[i], d = dout[i];
        float s = 1.0 / (1.0 + exp(-g));
        dup[i] = d * (g * s);
        dgate[i] = d * u * s * (1.0 + g * (1.0 - s));
    }
}
