// Shared helpers for every shader in Shaders/. See Shaders/README.md for the host contract.
#ifndef IFT_COMMON_GLSL
#define IFT_COMMON_GLSL

// Workgroup size is specialization constant 0 (one-dimensional), 256 unless the host specializes it.
#define IFT_LOCAL_SIZE layout(local_size_x = 256, local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

// Grid-stride loop helpers (elementwise kernels): the host may dispatch fewer groups than items.
#define IFT_GRID_START (gl_GlobalInvocationID.x)
#define IFT_GRID_STRIDE (gl_NumWorkGroups.x * gl_WorkGroupSize.x)

#define IFT_NEG_INF uintBitsToFloat(0xFF800000u)

#endif
