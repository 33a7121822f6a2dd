// The Vulkan headers only: no prototypes, so nothing links against libvulkan.
// The loader is opened at run time (dlopen), which lets a machine without it
// get a clear error instead of a dynamic-linker failure at start-up.
#define VK_NO_PROTOTYPES 1
#include <vulkan/vulkan.h>
