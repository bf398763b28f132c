/*
 * Opening a file for reading without the thread pool, when that cannot
 * block. Node runs every open(2) in its thread pool, in case resolving
 * the path has to read the disk; that costs a hand-off to another thread
 * and back (two context switches) per file, most of the work of sending
 * a small file. openat2(2) with RESOLVE_CACHED (Linux 5.12+) opens only
 * when every component of the path is in the kernel's dentry cache, and
 * fails with EAGAIN otherwise: then, and only then, the caller opens
 * through the thread pool as before.
 *
 * openCached(path) -> fd | -errno
 *   O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, symlinks followed (the
 *   caller checks where the descriptor leads, as it does for any open).
 *   -EAGAIN: not all cached; -ENOSYS (or -EINVAL on kernels without
 *   RESOLVE_CACHED): openat2 cannot help here, stop asking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "wharf.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Long enough for any path the jail builds (PATH_MAX). */
#define PATH_BYTES 4096

static napi_value open_cached(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[PATH_BYTES];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int result;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) {
    result = -EINVAL;
  } else if (len >= sizeof path - 1 || strlen(path) != len) {
    result = -ENAMETOOLONG; /* too long, or a NUL inside: not a path we open here */
  } else {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    how.resolve = RESOLVE_CACHED;
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    result = fd >= 0 ? (int)fd : -errno;
  }
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

void register_open(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "openCached", NAPI_AUTO_LENGTH, open_cached, NULL, &fn);
  napi_set_named_property(env, exports, "openCached", fn);
}
