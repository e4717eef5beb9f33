#include "sentencepiece_shim.h"
extern "C" int hat_spm_version(void) { return 0; }
