// The wrappers are all inline (include/CSQLite.h); a C target needs one source file.
#include "CSQLite.h"
