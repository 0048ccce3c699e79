/*
 * Argument checking and error throwing for the addon's C files (haagent_native.c, netlink.c),
 * each of which includes this header: the helpers are static inline, so a file that does not
 * use one does not warn about it. Wrong JS arguments become TypeErrors, failed system calls
 * Errors whose `code` is the errno name, failed Node-API calls an ERR_NAPI Error: never a crash.
 */
#ifndef HAAGENT_NAPI_ARGS_H
#define HAAGENT_NAPI_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Returns NULL from the calling function when a Node-API call fails; throws if nothing is pending. */
#define NAPI_OK(env, call)                                    \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      throw_napi_failure((env), #call);                       \
      return NULL;                                            \
    }                                                         \
  } while (0)

static inline void throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  const char *detail = NULL;
  if (napi_get_last_error_info(env, &info) == napi_ok && info != NULL) detail = info->error_message;
  char msg[256];
  snprintf(msg, sizeof msg, "haagent_native: %s failed: %s", what, detail ? detail : "unknown Node-API error");
  napi_throw_error(env, "ERR_NAPI", msg);
}

/* The errno names haagent can meet; the table keeps the `code` stable across libcs. */
static inline const char *errno_name(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(EBADF) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EBUSY) E(ENODEV) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC)
    E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRNOTAVAIL) E(ENETDOWN)
    E(ENETUNREACH) E(ENOBUFS) E(EHOSTUNREACH) E(ENOSYS) E(EEXIST) E(ETIMEDOUT) E(EPROTO)
#undef E
    default: return "EUNKNOWN";
  }
}

/* Throws Error(message "<call>: <strerror>", code "<errno name>", errno <n>). */
static inline void throw_errno(napi_env env, const char *call, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", call, strerror(err));
  napi_value code, text, error, num;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, code, text, &error) != napi_ok) {
    napi_throw_error(env, errno_name(err), msg);
    return;
  }
  /* errno is a convenience; the error is thrown even if it cannot be attached. */
  if (napi_create_int32(env, err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
  napi_throw(env, error);
}

static inline void throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
}

/* argc must be exactly `want`; fills argv. */
static inline bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_cb_info");
    return false;
  }
  if (argc < want) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s expects %zu arguments, got %zu", fn, want, argc);
    throw_type(env, msg);
    return false;
  }
  return true;
}

/* A JS number that is an integer in [min, max] (no silent truncation of 1.5 or NaN). */
static inline bool get_int(napi_env env, napi_value v, int64_t min, int64_t max, int64_t *out, const char *what) {
  napi_valuetype t;
  double d;
  char msg[160];
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      !isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
    snprintf(msg, sizeof msg, "%s must be an integer from %lld to %lld", what, (long long)min, (long long)max);
    throw_type(env, msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

/* A JS string of 1..cap-1 UTF-8 bytes without NUL, copied into buf[cap]. */
static inline bool get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *what) {
  napi_valuetype t;
  size_t len = 0;
  char msg[160];
  snprintf(msg, sizeof msg, "%s must be a string of 1 to %zu bytes", what, cap - 1);
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok ||
      len == 0 || len >= cap) {
    throw_type(env, msg);
    return false;
  }
  size_t copied = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &copied) != napi_ok || copied != len || strlen(buf) != len) {
    throw_type(env, msg);
    return false;
  }
  return true;
}

/* The one argument of fn: an integer in [min, max]. */
static inline bool get_sole_int(napi_env env, napi_callback_info info, const char *fn, const char *what, int64_t max, int64_t *out) {
  napi_value argv[1];
  return get_args(env, info, 1, argv, fn) && get_int(env, argv[0], 0, max, out, what);
}

static inline bool get_bool(napi_env env, napi_value v, bool *out, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean || napi_get_value_bool(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a boolean", what);
    throw_type(env, msg);
    return false;
  }
  return true;
}

/* A Buffer (or Uint8Array) of min..max bytes; data points into it (valid during this call only). */
static inline bool get_buffer(napi_env env, napi_value v, size_t min, size_t max, void **data, size_t *len, const char *what) {
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, data, len) != napi_ok ||
      *len < min || *len > max) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be a Buffer of %zu to %zu bytes", what, min, max);
    throw_type(env, msg);
    return false;
  }
  return true;
}

#endif
