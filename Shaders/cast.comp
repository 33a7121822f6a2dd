#version 450
// Element-type conversion. SRC, DST: 0 f32, 1 f16, 2 bf16.  One invocation per element pair
// (elements 2p and 2p+1), grid-stride over the ceil(n/2) pairs.  Both buffers are uint[]:
// an f32 tensor holds one element per word, a 16-bit tensor two (element 2p in the low half).
// When n is odd the last pair has one element: an f32 output writes only out[n-1]; a 16-bit
// output writes its last word with 0 in the (padding) upper half.  A 16-bit input with odd n is
// read as a whole last word, so its binding must cover ceil(n/2) words.
//
// Conversions are integer bit manipulation (include/bytes.glsl), bit-exact with HalfFloat.swift:
// round to nearest even, overflow to infinity, subnormals kept, NaN made quiet.  SRC == DST copies
// the bits.
#include "common.glsl"
#include "bytes.glsl"

IFT_LOCAL_SIZE
layout(constant_id = 1) const uint SRC = 0u;
layout(constant_id = 2) const uint DST = 0u;

layout(set = 0, binding = 0) readonly buffer In { uint src[]; };
layout(set = 0, binding = 1) writeonly buffer Out { uint dst[]; };

layout(push_constant) uniform Push {
    uint n;
} pc;

// 16-bit pattern (low bits of h) of type t (1 f16, 2 bf16) -> f32 bits.
uint to_f32_bits(uint h, uint t) {
    return t == 1u ? ift_f16_bits_to_f32_bits(h & 0xFFFFu) : ift_bf16_bits_to_f32_bits(h);
}

// f32 bits -> 16-bit pattern of type t (1 f16, 2 bf16).
uint from_f32_bits(uint x, uint t) {
    return t == 1u ? ift_f32_bits_to_f16_bits(x) : ift_f32_bits_to_bf16_bits(x);
}

void main() {
    uint npairs = (pc.n >> 1u) + (pc.n & 1u);
    uint stride = IFT_GRID_STRIDE;
    for (uint p = IFT_GRID_START; p < npairs; p += stride) {
        uint e0 = 2u * p;
        bool has1 = e0 + 1u < pc.n;
        if (SRC == DST) {
            // Same type: copy the bits (as the CPU reference does; no NaN quieting).
            if (SRC == 0u) {
                dst[e0] = src[e0];
                if (has1) dst[e0 + 1u] = src[e0 + 1u];
            } else {
                uint w = src[p];
                dst[p] = has1 ? w : (w & 0xFFFFu);
            }
            continue;
        }
        // Read both elements as f32 bit patterns.
        uint x0, x1;
        if (SRC == 0u) {
            x0 = src[e0];
            x1 = has1 ? src[e0 + 1u] : 0u;
        } else {
            uint w = src[p];
            x0 = to_f32_bits(w & 0xFFFFu, SRC);
            x1 = has1 ? to_f32_bits(w >> 16u, SRC) : 0u;
        }
        // Write.
        if (DST == 0u) {
            dst[e0] = x0;
            if (has1) dst[e0 + 1u] = x1;
        } else {
            uint lo = from_f32_bits(x0, DST) & 0xFFFFu;
            uint hi = has1 ? (from_f32_bits(x1, DST) & 0xFFFFu) : 0u;
            dst[p] = lo | (hi << 16u);
        }
    }
}
