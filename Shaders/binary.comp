#version 450
// out[i] = a[i] op b[i % nb] for i < n.  OP: 0 add, 1 mul.  Grid-stride loop.
#include "common.glsl"

IFT_LOCAL_SIZE
layout(constant_id = 1) const uint OP = 0u;

layout(set = 0, binding = 0) readonly buffer A { float a[]; };
layout(set = 0, binding = 1) readonly buffer B { float b[]; };
layout(set = 0, binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint n;
    uint nb;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        float x = a[i];
        float y = b[pc.nb == pc.n ? i : i % pc.nb];
        o[i] = (OP == 1u) ? (x * y) : (x + y);
    }
}
