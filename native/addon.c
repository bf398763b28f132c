/*
 * Wharf's native addon (Linux only): zero-copy sends (sendfile.c), opens
 * that skip the thread pool (open.c) and directory listings in batches
 * (list.c). Context-aware (NAPI_MODULE_INIT runs once per environment), so
 * the listing worker thread loads it too.
 */
#include "wharf.h"

NAPI_MODULE_INIT() {
  register_sendfile(env, exports);
  register_open(env, exports);
  register_list(env, exports);
  return exports;
}
