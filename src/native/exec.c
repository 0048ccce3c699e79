/*
 * execve(path, argv, env) for the agent's relaunch with its node flags (src/cli/relaunch.ts):
 * the same PID goes on as a new Node process, so systemd's MAINPID, sd_notify's sender check
 * and the watchdog all still name the agent. Node 20 has no process.execve (it came in 23.11).
 *
 * It returns only by throwing: on success the calling process is gone. It is called before
 * the agent opens anything; libuv opens its own descriptors close-on-exec, so nothing leaks
 * into the new image. Node marks stdin, stdout and stderr close-on-exec too (measured: flags
 * 02000001 on fd 1 of a plain `node x.mjs`), so the new image would start with them closed
 * and every log line would fail with EBADF: the flag is cleared on 0-2 first (and put back if
 * execve fails).
 */
#include "exec.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* An argument vector longer than this is a caller bug, not a command line. */
#define EXEC_MAX_STRINGS 4096
/* One argument or one NAME=value; the kernel's own limit per string is 128 KiB. */
#define EXEC_MAX_STRING 131072

static void free_strings(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/* A JS array of strings without NUL (argv: at least one) -> a NULL-terminated, malloc'd vector. */
static char **get_strings(napi_env env, napi_value arr, const char *what, bool allow_empty) {
  char msg[160];
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array || napi_get_array_length(env, arr, &n) != napi_ok ||
      n > EXEC_MAX_STRINGS || (!allow_empty && n == 0)) {
    snprintf(msg, sizeof msg, "%s must be an array of %s%u strings", what, allow_empty ? "0 to " : "1 to ", EXEC_MAX_STRINGS);
    throw_type(env, msg);
    return NULL;
  }
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) {
    throw_errno(env, "execve: calloc", ENOMEM);
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_valuetype t;
    size_t len = 0, copied = 0;
    if (napi_get_element(env, arr, i, &item) != napi_ok || napi_typeof(env, item, &t) != napi_ok || t != napi_string ||
        napi_get_value_string_utf8(env, item, NULL, 0, &len) != napi_ok || len >= EXEC_MAX_STRING) {
      snprintf(msg, sizeof msg, "%s[%u] must be a string shorter than %d bytes", what, i, EXEC_MAX_STRING);
      throw_type(env, msg);
      free_strings(v);
      return NULL;
    }
    v[i] = malloc(len + 1);
    if (v[i] == NULL) {
      free_strings(v);
      throw_errno(env, "execve: malloc", ENOMEM);
      return NULL;
    }
    if (napi_get_value_string_utf8(env, item, v[i], len + 1, &copied) != napi_ok || copied != len || strlen(v[i]) != len) {
      snprintf(msg, sizeof msg, "%s[%u] must not contain NUL", what, i);
      throw_type(env, msg);
      free_strings(v);
      return NULL;
    }
  }
  return v;
}

/* execve(path, argv, env): never returns on success; throws with the errno on failure. */
napi_value haagent_execve(napi_env env, napi_callback_info info) {
  napi_value args[3];
  if (!get_args(env, info, 3, args, "execve")) return NULL;
  char path[4096];
  if (!get_string(env, args[0], path, sizeof path, "execve: path")) return NULL;
  char **argv = get_strings(env, args[1], "execve: argv", false);
  if (argv == NULL) return NULL;
  char **envp = get_strings(env, args[2], "execve: env", true);
  if (envp == NULL) {
    free_strings(argv);
    return NULL;
  }
  int fdflags[3];
  for (int fd = 0; fd < 3; fd++) {
    fdflags[fd] = fcntl(fd, F_GETFD);
    if (fdflags[fd] >= 0 && (fdflags[fd] & FD_CLOEXEC) != 0) fcntl(fd, F_SETFD, fdflags[fd] & ~FD_CLOEXEC);
  }
  execve(path, argv, envp);
  int err = errno;
  for (int fd = 0; fd < 3; fd++) {
    if (fdflags[fd] >= 0) fcntl(fd, F_SETFD, fdflags[fd]);
  }
  free_strings(argv);
  free_strings(envp);
  char call[160];
  snprintf(call, sizeof call, "execve(%.100s)", path);
  throw_errno(env, call, err);
  return NULL;
}
