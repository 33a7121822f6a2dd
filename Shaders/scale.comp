#version 450
// out[i] = a[i] * s for i < n.  Grid-stride loop.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
    float s;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        o[i] = a[i] * pc.s;
    }
}
