/* The election loop's libuv timer (timer.c): timerNew, timerStart, timerStop. */
#ifndef HAAGENT_TIMER_H
#define HAAGENT_TIMER_H

#include "napi_args.h"

napi_value haagent_timer_new(napi_env env, napi_callback_info info);
napi_value haagent_timer_start(napi_env env, napi_callback_info info);
napi_value haagent_timer_stop(napi_env env, napi_callback_info info);

#endif
