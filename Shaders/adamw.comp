#version 450
// One AdamW step in place (PyTorch's torch.optim.AdamW, decoupled weight decay), fp32, in the
// order of AdamWConstants (Sources/IFTCore/Optimizer.swift); the bias corrections and decay factor
// come from the host (computed in Double, rounded once):
//   g = grad * gradScale; m = beta1*m + omb1*g; v = beta2*v + omb2*(g*g);
//   p = p * decay; p = p - lr * ((m / bias1) / (sqrt(v / bias2) + eps)).
// Grid-stride over n elements. CPU reference: Sources/IFTCPU/Reference/AdamW.swift.
#include "common.glsl"

IFT_LOCAL_SIZE

layout(set = 0, binding = 0) buffer Params { float p[]; };
layout(set = 0, binding = 1) readonly buffer Grads { float grads[]; };
layout(set = 0, binding = 2) buffer M { float m[]; };
layout(set = 0, binding = 3) buffer V { float v[]; };

layout(push_constant) uniform Push {
    uint n;
    float lr, beta1, omb1, beta2, omb2, eps, decay, bias1, bias2, gradScale;
} pc;

void main() {
    uint stride = IFT_GRID_STRIDE;
    for (uint i = IFT_GRID_START; i < pc.n; i += stride) {
        precise float g = grads[i] * pc.gradScale;
        precise float mi = pc.beta1 * m[i] + pc.omb1 * g;
        precise float vi = pc.beta2 * v[i] + pc.omb2 * (g * g);
        precise float pi = p[i] * pc.decay;
        precise float upd = pc.lr * ((mi / pc.bias1) / (sqrt(vi / pc.bias2) + pc.eps));
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - upd;
    }
}
