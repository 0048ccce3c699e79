/* The heartbeat socket to one peer with its ICMP error queue (udp.c): udpSocket, udpErrors. */
#ifndef HAAGENT_UDP_H
#define HAAGENT_UDP_H

#include "napi_args.h"

napi_value haagent_udp_socket(napi_env env, napi_callback_info info);
napi_value haagent_udp_errors(napi_env env, napi_callback_info info);

#endif
