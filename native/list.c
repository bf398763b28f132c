/*
 * Directory listings in batches, for the listing worker
 * (src/vfs/local/listWorker.ts): one call reads up to N entries and
 * fstatat()s each relative to the open directory, and hands back the
 * batch in the worker's columns. Node's lstatSync builds a Stats object
 * with four Dates per entry, behind one JS call and one trip through
 * libuv's fs layer each; here a batch is one call.
 *
 * listOpen(path, skipPrefix) -> handle | -errno
 *   Opens the directory. The handle (an external) keeps it open between
 *   batches; listClose closes it, and so does the garbage collector (or
 *   the end of the thread) when the caller forgets. Names starting with
 *   skipPrefix (ASCII) are never returned.
 * listNext(handle, max) -> batch | null | -errno
 *   Up to `max` entries, or null at the end. The batch is
 *   { names, count, types, sizes, mtimes, modes, uniques, deferred }:
 *   names and uniques ("dev.ino" in lowercase hex) joined with NUL; types
 *   (Uint8: 0 file, 1 dir, 3 other), sizes (Float64, 4096 for a
 *   directory), mtimes (Float64 ms, as Stats.mtimeMs), modes (Uint16,
 *   mode & 07777). Type 2 marks an entry left to the caller (`deferred`
 *   counts them): a symlink, which the caller resolves against its root,
 *   or a name that is not valid UTF-8, which the caller decodes and stats
 *   as Node's own calls do. Its other columns are 0 and its unique empty.
 *   An entry gone between readdir and stat (ENOENT) is skipped.
 * listClose(handle) -> undefined
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "wharf.h"

typedef struct {
  DIR *dir;
  size_t skip_len;
  char skip[64];
} listing;

/* The most entries one call reads. */
#define MAX_BATCH 65536

/* Tells this addon's handles from any other external. */
static const napi_type_tag LISTING_TAG = {0x7768617266206c69ULL, 0x7374696e67000001ULL};

/* A batch being built: the columns in C, copied out at the end. */
typedef struct {
  char *names;
  size_t names_len, names_cap;
  char *uniques;
  size_t uniques_len, uniques_cap;
  uint8_t *types;
  double *sizes, *mtimes;
  uint16_t *modes;
  uint32_t count, deferred;
} batch;

static void close_listing(listing *l) {
  if (l->dir) closedir(l->dir);
  l->dir = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  close_listing((listing *)data);
  free(data);
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static listing *get_listing(napi_env env, napi_value v) {
  bool tagged = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, v, &LISTING_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (listing *)data;
}

static napi_value list_open(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0, skip_len = 0;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) return int_value(env, -EINVAL);
  listing *l = calloc(1, sizeof(listing));
  char *path = malloc(len + 1);
  if (!l || !path || napi_get_value_string_utf8(env, argv[0], path, len + 1, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], l->skip, sizeof l->skip, &skip_len) != napi_ok || skip_len >= sizeof l->skip - 1 ||
      strlen(path) != len) {
    int err = !l || !path ? -ENOMEM : strlen(path) != len ? -ENOENT : -EINVAL; /* a NUL inside: no such path */
    free(l);
    free(path);
    return int_value(env, err);
  }
  l->skip_len = skip_len;
  l->dir = opendir(path);
  int err = l->dir ? 0 : -errno;
  free(path);
  napi_value ext;
  if (err || napi_create_external(env, l, finalize, NULL, &ext) != napi_ok) {
    close_listing(l);
    free(l);
    return int_value(env, err ? err : -ENOMEM);
  }
  napi_type_tag_object(env, ext, &LISTING_TAG);
  return ext;
}

static napi_value list_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  listing *l = argc >= 1 ? get_listing(env, argv[0]) : NULL;
  if (l) close_listing(l);
  return NULL;
}

/* True for UTF-8 that V8 decodes as is (no overlongs, no surrogates, nothing past U+10FFFF). */
static int valid_utf8(const unsigned char *s) {
  while (*s) {
    unsigned c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    int n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return 0;
    unsigned lo = 0x80, hi = 0xbf; /* the bounds of the second byte */
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (s[1] < lo || s[1] > hi) return 0;
    for (int i = 2; i <= n; i++)
      if ((s[i] & 0xc0) != 0x80) return 0;
    s += n + 1;
  }
  return 1;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t want = (*len + n + 1) * 2;
    char *grown = realloc(*buf, want);
    if (!grown) return -ENOMEM;
    *buf = grown;
    *cap = want;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  return 0;
}

/* A double that holds an integer, in lowercase hex as Number#toString(16) writes it. */
static size_t hex_of(double v, char *out) {
  if (v >= 18446744073709551616.0) { /* 2^64: a 64-bit value rounded up */
    memcpy(out, "10000000000000000", 17);
    return 17;
  }
  unsigned long long x = (unsigned long long)v;
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = "0123456789abcdef"[x & 15];
    x >>= 4;
  } while (x);
  for (size_t i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  return n;
}

/* Reads entries into b until it holds max or the directory ends. 0, or -errno. */
static int fill(listing *l, batch *b, uint32_t max) {
  int dfd = dirfd(l->dir);
  while (b->count < max) {
    errno = 0;
    struct dirent *d = readdir(l->dir);
    if (!d) return errno ? -errno : 0;
    const char *name = d->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    if (l->skip_len > 0 && strncmp(name, l->skip, l->skip_len) == 0) continue;
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue; /* gone meanwhile: not listed */
      return -errno;
    }
    uint32_t i = b->count;
    char unique[48];
    size_t ulen = 0;
    if (S_ISLNK(st.st_mode) || !valid_utf8((const unsigned char *)name)) {
      b->types[i] = 2;
      b->sizes[i] = b->mtimes[i] = 0;
      b->modes[i] = 0;
      b->deferred++;
    } else {
      int dir = S_ISDIR(st.st_mode);
      b->types[i] = dir ? 1 : S_ISREG(st.st_mode) ? 0 : 3;
      b->sizes[i] = dir ? 4096 : (double)st.st_size;
      /* As Node computes mtimeMs: sec * 1e3 + nsec / 1e6, in doubles. */
      b->mtimes[i] = (double)st.st_mtim.tv_sec * 1000 + (double)st.st_mtim.tv_nsec / 1e6;
      b->modes[i] = (uint16_t)(st.st_mode & 07777);
      ulen = hex_of((double)st.st_dev, unique);
      unique[ulen++] = '.';
      ulen += hex_of((double)st.st_ino, unique + ulen);
    }
    const char *sep = "\0";
    int err = 0;
    if (i > 0) err = append(&b->names, &b->names_len, &b->names_cap, sep, 1);
    if (!err) err = append(&b->names, &b->names_len, &b->names_cap, name, strlen(name));
    if (!err && i > 0) err = append(&b->uniques, &b->uniques_len, &b->uniques_cap, sep, 1);
    if (!err) err = append(&b->uniques, &b->uniques_len, &b->uniques_cap, unique, ulen);
    if (err) return err;
    b->count++;
  }
  return 0;
}

static napi_value column(napi_env env, napi_typedarray_type type, size_t elem, const void *src, size_t n) {
  void *data;
  napi_value ab, out;
  napi_create_arraybuffer(env, n * elem, &data, &ab);
  if (n > 0) memcpy(data, src, n * elem);
  napi_create_typedarray(env, type, n, ab, 0, &out);
  return out;
}

static void set(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_set_named_property(env, obj, key, v);
}

static napi_value to_js(napi_env env, batch *b) {
  napi_value obj, v;
  size_t n = b->count;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, b->names, b->names_len, &v);
  set(env, obj, "names", v);
  napi_create_uint32(env, b->count, &v);
  set(env, obj, "count", v);
  set(env, obj, "types", column(env, napi_uint8_array, 1, b->types, n));
  set(env, obj, "sizes", column(env, napi_float64_array, 8, b->sizes, n));
  set(env, obj, "mtimes", column(env, napi_float64_array, 8, b->mtimes, n));
  set(env, obj, "modes", column(env, napi_uint16_array, 2, b->modes, n));
  napi_create_string_latin1(env, b->uniques, b->uniques_len, &v);
  set(env, obj, "uniques", v);
  napi_create_uint32(env, b->deferred, &v);
  set(env, obj, "deferred", v);
  return obj;
}

static napi_value list_next(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t max = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  listing *l = argc >= 2 ? get_listing(env, argv[0]) : NULL;
  if (!l || napi_get_value_uint32(env, argv[1], &max) != napi_ok || max == 0) return int_value(env, -EINVAL);
  if (max > MAX_BATCH) max = MAX_BATCH;
  if (!l->dir) return int_value(env, -EBADF);
  batch b;
  memset(&b, 0, sizeof b);
  b.types = malloc(max);
  b.sizes = malloc(max * sizeof(double));
  b.mtimes = malloc(max * sizeof(double));
  b.modes = malloc(max * sizeof(uint16_t));
  int err = b.types && b.sizes && b.mtimes && b.modes ? fill(l, &b, max) : -ENOMEM;
  napi_value out;
  if (err) out = int_value(env, err);
  else if (b.count == 0) napi_get_null(env, &out);
  else out = to_js(env, &b);
  free(b.names);
  free(b.uniques);
  free(b.types);
  free(b.sizes);
  free(b.mtimes);
  free(b.modes);
  return out;
}

void register_list(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "listOpen", NAPI_AUTO_LENGTH, list_open, NULL, &fn);
  napi_set_named_property(env, exports, "listOpen", fn);
  napi_create_function(env, "listNext", NAPI_AUTO_LENGTH, list_next, NULL, &fn);
  napi_set_named_property(env, exports, "listNext", fn);
  napi_create_function(env, "listClose", NAPI_AUTO_LENGTH, list_close, NULL, &fn);
  napi_set_named_property(env, exports, "listClose", fn);
}
