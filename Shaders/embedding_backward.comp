#version 450
// Gradient of an f32 embedding table, accumulated: dtable[ids[i] - v0, c] += dout[i, c] for the
// n ids (in order) whose id lies in the bound rows v0 ..< v0 + vcount (others are skipped: the
// CPU backends throw for ids outside 0..<vocab). One invocation per column c, each walking every
// id in order: no atomics, deterministic, the same order as the CPU reference. Grid-stride over
// columns. CPU reference: Sources/IFTCPU/Reference/EmbeddingBackward.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) readonly buffer Ids { int ids[]; };
layout(set = 0, binding = 1) readonly buffer DOut { float dout[]; };
layout(set = 0, binding = 2) buffer DTable { float dtable[]; };

layout(push_constant) uniform Push {
    uint n;
    uint dim;
    uint v0;
    uint vcount;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint c = IFT_GRID_START; c < pc.dim; c += stride) {
        for (uint i = 0u; i < pc.n; i++) {
            int id = ids[i];
            if (id < 0) continue;
            uint v = uint(id) - pc.v0;
            if (uint(id) < pc.v0 || v >= pc.vcount) continue;
            dtable[v * pc.dim + c] += dout[i * pc.dim + c];
        }
    }
}
