/* The peer of a Unix socket (cred.c): peerCred. */
#ifndef HAAGENT_CRED_H
#define HAAGENT_CRED_H

#include "napi_args.h"

napi_value haagent_peer_cred(napi_env env, napi_callback_info info);

#endif
