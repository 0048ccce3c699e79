/*
 * A libuv timer for the election loop's one deadline.
 *
 * Why not setTimeout: Node keeps one libuv timer for all of its JS timers and re-arms it only
 * when a new timer is due EARLIER than the one it is armed for. A deadline that moves later
 * (clearTimeout + setTimeout, or timeout.refresh()) leaves the libuv timer armed for the old
 * time: it fires, finds nothing due and is re-armed. The agent's deadline moves later with
 * every heartbeat it receives (the peer's overdue time), so at 10 ms heartbeats that was one
 * extra wake-up per heartbeat: half of the active agent's wake-ups, and wake-ups, not the work
 * done in them, are most of its CPU. uv_timer_start on a running timer replaces its due time,
 * and libuv computes every poll's timeout from its timer heap: moving it costs no wake-up.
 *
 * The timer keeps the event loop alive while it is armed (as a pending setTimeout does). Its
 * callback runs through napi_make_callback, so microtasks and process.nextTick callbacks run
 * after it as after any Node callback, and an exception it throws reaches 'uncaughtException'.
 */
#include "timer.h"

#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_timer_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  bool closing;
} haagent_timer;

static void timer_closed(uv_handle_t *h) {
  free(h->data);
}

/* Stops and frees the timer; its JS references are released first. */
static void timer_destroy(haagent_timer *t) {
  if (t->closing) return;
  t->closing = true;
  if (t->callback != NULL) napi_delete_reference(t->env, t->callback);
  if (t->context != NULL) napi_async_destroy(t->env, t->context);
  t->callback = NULL;
  t->context = NULL;
  uv_timer_stop(&t->handle);
  uv_close((uv_handle_t *)&t->handle, timer_closed);
}

/* The JS object was garbage collected (or the environment is torn down). */
static void timer_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  timer_destroy((haagent_timer *)data);
}

static void timer_fired(uv_timer_t *h) {
  haagent_timer *t = (haagent_timer *)h->data;
  if (t->closing || t->callback == NULL) return;
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, result;
  /* napi_make_callback wants an object as the receiver: the global one, as for a plain call. */
  if (napi_get_reference_value(env, t->callback, &fn) == napi_ok && fn != NULL && napi_get_global(env, &recv) == napi_ok) {
    napi_status s = napi_make_callback(env, t->context, recv, fn, 0, NULL, &result);
    if (s == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static haagent_timer *unwrap_timer(napi_env env, napi_value v, const char *fn) {
  void *data = NULL;
  if (napi_unwrap(env, v, &data) != napi_ok || data == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: expected a timer made by timerNew", fn);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  haagent_timer *t = (haagent_timer *)data;
  if (t->closing) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: the timer was closed", fn);
    napi_throw_error(env, "ERR_TIMER_CLOSED", msg);
    return NULL;
  }
  return t;
}

/* timerNew(callback): an object owning one libuv timer that calls callback when it expires. */
napi_value haagent_timer_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], obj, name;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "timerNew: expected a callback function");
    return NULL;
  }
  uv_loop_t *loop = NULL;
  NAPI_OK(env, napi_get_uv_event_loop(env, &loop));
  haagent_timer *t = (haagent_timer *)calloc(1, sizeof *t);
  if (t == NULL) {
    throw_errno(env, "timerNew: calloc", ENOMEM);
    return NULL;
  }
  t->env = env;
  if (uv_timer_init(loop, &t->handle) != 0) {
    free(t);
    throw_errno(env, "timerNew: uv_timer_init", EINVAL);
    return NULL;
  }
  t->handle.data = t;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_reference(env, argv[0], 1, &t->callback) != napi_ok ||
      napi_create_string_utf8(env, "haagent.timer", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, obj, name, &t->context) != napi_ok || napi_wrap(env, obj, t, timer_finalize, NULL, NULL) != napi_ok) {
    timer_destroy(t);
    throw_napi_failure(env, "timerNew");
    return NULL;
  }
  return obj;
}

/*
 * The timer of a timerStart/timerStop call (argv[0]) and its other arguments; NULL with an
 * exception pending when they are missing or wrong.
 */
static haagent_timer *timer_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, fn);
    return NULL;
  }
  if (argc < want) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: expected %zu argument(s)", fn, want);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return unwrap_timer(env, argv[0], fn);
}

/* timerStart(timer, ms): (re-)arms the timer ms from now; replaces any earlier due time. */
napi_value haagent_timer_start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  haagent_timer *t = timer_call(env, info, 2, argv, "timerStart");
  if (t == NULL) return NULL;
  double ms = 0;
  if (napi_get_value_double(env, argv[1], &ms) != napi_ok || !isfinite(ms) || ms < 0 || ms > 86400000.0) {
    napi_throw_type_error(env, NULL, "timerStart: ms must be a finite number from 0 to 86400000");
    return NULL;
  }
  /*
   * libuv counts from the loop's cached time, taken when this turn of the loop began; the
   * caller measured ms from now. Refresh it, or the timer fires early by however long this
   * turn has run. Whole milliseconds, rounded up, as setTimeout does.
   */
  uv_loop_t *loop = uv_handle_get_loop((uv_handle_t *)&t->handle);
  uv_update_time(loop);
  uv_timer_start(&t->handle, timer_fired, (uint64_t)ceil(ms), 0);
  return NULL;
}

/* timerStop(timer): disarms it (it no longer keeps the loop alive). */
napi_value haagent_timer_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  haagent_timer *t = timer_call(env, info, 1, argv, "timerStop");
  if (t == NULL) return NULL;
  uv_timer_stop(&t->handle);
  return NULL;
}
