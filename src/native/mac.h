/* HMAC-SHA256/128 for the heartbeat hot path (mac.c): macKey, macSeal, macCheck. */
#ifndef HAAGENT_MAC_H
#define HAAGENT_MAC_H

#include "napi_args.h"

napi_value haagent_mac_key(napi_env env, napi_callback_info info);
napi_value haagent_mac_seal(napi_env env, napi_callback_info info);
napi_value haagent_mac_check(napi_env env, napi_callback_info info);

#endif
