/*
 * Zero-copy downloads: sendfile(2) from a file to a plain TCP socket,
 * driven by the event loop. Node has no zero-copy send in core; a
 * download otherwise reads each chunk into a buffer and writes it out,
 * copying every byte twice through user space.
 *
 * start(socketFd, fileFd, offset, length, budgetMs, callback) -> [errno, sent] | token
 *   Sends up to `length` bytes of the file from `offset` to the socket.
 *   When the socket takes them all at once (a small file), or the file
 *   ends, or sending fails, it returns [errno, bytesSent] at once and the
 *   callback is never called. Otherwise (the socket is full: Node's
 *   sockets are non-blocking) it returns a token, and a uv_poll on a dup
 *   of the socket's descriptor waits for room. That send ends when
 *   `length` bytes are sent, when the file ends, on an error, when
 *   `budgetMs` has passed with some bytes sent (so the caller sees
 *   progress and can re-arm its timeouts), or on cancel(token); the
 *   callback then gets (errno, bytesSent), asynchronously. errno is 0 on
 *   success, else the positive errno.
 * cork(socketFd, on) -> boolean
 *   Sets TCP_CORK: while corked, the kernel sends only full segments, so a
 *   response's head and its file leave together and every segment is
 *   whole (nginx's tcp_nopush). Uncorking sends what is left.
 * cancel(token) -> boolean
 *   Ends a send under way with ECANCELED (the caller is closing the socket:
 *   the dup must not keep the connection open).
 *
 * Linux only; main thread only (one list of sends under way).
 */
#include "wharf.h"
#include <uv.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <unistd.h>

typedef struct send_req {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int out;
  int in;
  off_t offset;
  size_t left;
  double sent;
  uint64_t deadline;
  int err;
  int finished;
  uint32_t token;
  struct send_req *next;
} send_req;

static send_req *active = NULL;
static uint32_t next_token = 1;

/* The most one sendfile(2) call moves (the kernel's own cap). */
#define MAX_CALL 0x7ffff000

static void unlink_req(send_req *r) {
  for (send_req **p = &active; *p; p = &(*p)->next) {
    if (*p == r) {
      *p = r->next;
      return;
    }
  }
}

static void on_closed(uv_handle_t *handle) {
  send_req *r = (send_req *)handle;
  napi_env env = r->env;
  close(r->out);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, r->callback, &cb);
  napi_get_global(env, &recv); /* napi_make_callback wants an object for `this` */
  napi_create_int32(env, r->err, &argv[0]);
  napi_create_double(env, r->sent, &argv[1]);
  napi_status status = napi_make_callback(env, r->async, recv, cb, 2, argv, &result);
  if (status == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, r->callback);
  napi_async_destroy(env, r->async);
  free(r);
}

static void finish(send_req *r, int err) {
  if (r->finished) return;
  r->finished = 1;
  r->err = err;
  unlink_req(r);
  uv_close((uv_handle_t *)&r->poll, on_closed);
}

static void on_writable(uv_poll_t *handle, int status, int events);
static int send_now(int out, int in, off_t *offset, size_t *left, double *sent, int *err);

static void pump(send_req *r) {
  int err;
  int over = send_now(r->out, r->in, &r->offset, &r->left, &r->sent, &err);
  if (!over && r->sent > 0 && uv_now(r->poll.loop) >= r->deadline) over = 1; /* let the caller see progress */
  if (over) finish(r, err);
}

static void on_writable(uv_poll_t *handle, int status, int events) {
  send_req *r = (send_req *)handle;
  (void)events;
  if (r->finished) return;
  if (status < 0) {
    finish(r, -status);
    return;
  }
  pump(r);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* Sends what the socket takes now. Returns 1 when the send is over (*err set), 0 when the socket is full. */
static int send_now(int out, int in, off_t *offset, size_t *left, double *sent, int *err) {
  *err = 0;
  while (*left > 0) {
    size_t n = *left > MAX_CALL ? MAX_CALL : *left;
    ssize_t k = sendfile(out, in, offset, n);
    if (k > 0) {
      *left -= (size_t)k;
      *sent += (double)k;
      continue;
    }
    if (k == 0) return 1; /* the file ended (it shrank) */
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    *err = errno;
    return 1;
  }
  return 1;
}

static napi_value pair(napi_env env, int err, double sent) {
  napi_value out, e, n;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, err, &e);
  napi_create_double(env, sent, &n);
  napi_set_element(env, out, 0, e);
  napi_set_element(env, out, 1, n);
  return out;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return throw_error(env, "start(socketFd, fileFd, offset, length, budgetMs, callback)");
  int32_t out, in;
  int64_t offset, length, budget;
  napi_valuetype cbtype;
  if (napi_get_value_int32(env, argv[0], &out) != napi_ok || napi_get_value_int32(env, argv[1], &in) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      napi_get_value_int64(env, argv[4], &budget) != napi_ok || napi_typeof(env, argv[5], &cbtype) != napi_ok ||
      cbtype != napi_function || out < 0 || in < 0 || offset < 0 || length < 0 || budget < 0)
    return throw_error(env, "start: bad arguments");
  off_t off = (off_t)offset;
  size_t left = (size_t)length;
  double sent = 0;
  int err;
  if (send_now(out, in, &off, &left, &sent, &err)) return pair(env, err, sent);
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_error(env, "start: no event loop");
  send_req *r = calloc(1, sizeof(send_req));
  if (!r) return throw_error(env, "start: out of memory");
  r->out = dup(out);
  if (r->out < 0) {
    free(r);
    return pair(env, errno, sent);
  }
  int rc = uv_poll_init(loop, &r->poll, r->out);
  if (rc == 0) rc = uv_poll_start(&r->poll, UV_WRITABLE, on_writable);
  if (rc < 0) {
    close(r->out);
    free(r);
    return pair(env, -rc, sent);
  }
  napi_value name, resource;
  napi_create_string_utf8(env, "wharf:sendfile", NAPI_AUTO_LENGTH, &name);
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &r->async);
  napi_create_reference(env, argv[5], 1, &r->callback);
  r->env = env;
  r->in = in;
  r->offset = off;
  r->left = left;
  r->sent = sent;
  r->deadline = uv_now(loop) + (uint64_t)budget;
  r->token = next_token++;
  if (next_token == 0) next_token = 1;
  r->next = active;
  active = r;
  napi_value token;
  napi_create_uint32(env, r->token, &token);
  return token;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t token = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_uint32(env, argv[0], &token);
  napi_value found;
  for (send_req *r = active; r; r = r->next) {
    if (r->token == token) {
      finish(r, ECANCELED);
      napi_get_boolean(env, 1, &found);
      return found;
    }
  }
  napi_get_boolean(env, 0, &found);
  return found;
}

static napi_value cork(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  bool on = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_bool(env, argv[1], &on) != napi_ok || fd < 0)
    return throw_error(env, "cork(socketFd, on)");
  int value = on ? 1 : 0;
  napi_value ok;
  napi_get_boolean(env, setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0, &ok);
  return ok;
}

void register_sendfile(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  napi_create_function(env, "cork", NAPI_AUTO_LENGTH, cork, NULL, &fn);
  napi_set_named_property(env, exports, "cork", fn);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, NULL, &fn);
  napi_set_named_property(env, exports, "cancel", fn);
}
