/* Wharf's native addon (Linux only): zero-copy sends (sendfile.c) and opens that skip the thread pool (open.c). */
#include "wharf.h"

NAPI_MODULE_INIT() {
  register_sendfile(env, exports);
  register_open(env, exports);
  return exports;
}
