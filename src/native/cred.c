/*
 * peerCred(fd): the credentials of the process at the other end of a connected Unix socket
 * (getsockopt SO_PEERCRED), so the agent can log who ran a state-changing command on the
 * control socket. Node has no API for it; the fd is that of a net.Socket's handle.
 */
#include "cred.h"

#include <sys/socket.h>
#include <sys/types.h>

/* peerCred(fd): { pid, uid, gid } of the peer, as the kernel recorded them at connect(). */
napi_value haagent_peer_cred(napi_env env, napi_callback_info info) {
  int64_t fd;
  if (!get_sole_int(env, info, "peerCred", "peerCred: fd", INT32_MAX, &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
    return NULL;
  }
  if (len != sizeof cred) {
    throw_errno(env, "getsockopt(SO_PEERCRED)", EPROTO);
    return NULL;
  }
  napi_value out, pid, uid, gid;
  NAPI_OK(env, napi_create_object(env, &out));
  NAPI_OK(env, napi_create_int64(env, (int64_t)cred.pid, &pid));
  NAPI_OK(env, napi_create_int64(env, (int64_t)cred.uid, &uid));
  NAPI_OK(env, napi_create_int64(env, (int64_t)cred.gid, &gid));
  NAPI_OK(env, napi_set_named_property(env, out, "pid", pid));
  NAPI_OK(env, napi_set_named_property(env, out, "uid", uid));
  NAPI_OK(env, napi_set_named_property(env, out, "gid", gid));
  return out;
}
