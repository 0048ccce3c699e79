/*
 * The VIP through rtnetlink (netlink.c), exported by haagent_native.c's module init.
 * netlink.c owns this addon's per-environment instance data (its socket): nothing else in
 * the addon may call napi_set_instance_data.
 */
#ifndef HAAGENT_NETLINK_H
#define HAAGENT_NETLINK_H

#include "napi_args.h"

/* ifIndex(name) -> the interface's index; throws ENODEV when there is none. */
napi_value nl_if_index(napi_env env, napi_callback_info info);
/* addrAdd(ifindex, family, address, prefix, nodad) -> the kernel's errno, 0 = added. */
napi_value nl_addr_add(napi_env env, napi_callback_info info);
/* addrDel(ifindex, family, address, prefix) -> the kernel's errno, 0 = removed. */
napi_value nl_addr_del(napi_env env, napi_callback_info info);

#endif
