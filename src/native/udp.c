/*
 * The heartbeat socket to one peer, with the kernel's error queue (IP_RECVERR).
 *
 * A crashed agent's kernel answers our next heartbeat with ICMP port unreachable. Node only
 * reports that as ECONNREFUSED, which anyone on the segment can provoke with a forged ICMP
 * error: both addresses and the port are in the clear. With IP_RECVERR the kernel also keeps
 * the error with the datagram the ICMP error quotes (Linux quotes up to 576 bytes: all of a
 * heartbeat), so the agent can check that the refused datagram is one it really sent, MAC
 * and sequence number included. Only a host that sees our unicast heartbeats could quote one;
 * that host could also drop them.
 *
 * udpSocket makes the socket (SO_REUSEADDR: the peers' sockets share the heartbeat port;
 * IP_RECVERR or IPV6_RECVERR; bound) and Node's dgram adopts it (socket.bind({ fd })).
 * udpErrors drains the error queue. It must be drained whenever the socket reports an error:
 * epoll keeps signalling EPOLLERR while the queue is not empty.
 */
#include "udp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/errqueue.h>

/* Entries read per call: a peer sends one error per datagram we send, a few at most. */
#define ERRQ_MAX 16
/* An ICMP error quotes at most 576 bytes of IPv4 (1280 of IPv6): a heartbeat fits. */
#define QUOTE_MAX 1500

/* udpSocket(family: 4 | 6, address: string, port: number): fd, bound, with the error queue on. */
napi_value haagent_udp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int64_t family = 0, port = 0;
  char address[INET6_ADDRSTRLEN];
  if (!get_args(env, info, 3, argv, "udpSocket") || !get_int(env, argv[0], 4, 6, &family, "udpSocket: family") ||
      !get_string(env, argv[1], address, sizeof address, "udpSocket: address") || !get_int(env, argv[2], 0, 65535, &port, "udpSocket: port")) {
    return NULL;
  }
  if (family == 5) {
    throw_type(env, "udpSocket: family must be 4 or 6");
    return NULL;
  }
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  memset(&sa, 0, sizeof sa);
  /* sin_family and sin6_family share their place, as do sin_port and sin6_port. */
  sa.v4.sin_family = family == 4 ? AF_INET : AF_INET6;
  sa.v4.sin_port = htons((uint16_t)port);
  socklen_t salen = family == 4 ? sizeof sa.v4 : sizeof sa.v6;
  void *dst = family == 4 ? (void *)&sa.v4.sin_addr : (void *)&sa.v6.sin6_addr;
  if (inet_pton(family == 4 ? AF_INET : AF_INET6, address, dst) != 1) {
    throw_type(env, family == 4 ? "udpSocket: address must be an IPv4 address" : "udpSocket: address must be an IPv6 address");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw_errno(env, "udpSocket: socket", errno);
    return NULL;
  }
  int one = 1;
  const char *failed = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) failed = "setsockopt(SO_REUSEADDR)";
  else if (family == 4 && setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one) != 0) failed = "setsockopt(IP_RECVERR)";
  else if (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one) != 0) failed = "setsockopt(IPV6_RECVERR)";
  else if (bind(fd, (struct sockaddr *)&sa, salen) != 0) failed = "bind";
  if (failed != NULL) {
    int err = errno;
    close(fd);
    char call[96];
    snprintf(call, sizeof call, "udpSocket: %s (%s port %lld)", failed, address, (long long)port);
    throw_errno(env, call, err);
    return NULL;
  }
  NAPI_OK(env, napi_create_int32(env, fd, &out));
  return out;
}

/* One queued error as { errno, origin, type, code, quoted }; NULL with an exception pending. */
static napi_value error_entry(napi_env env, const struct sock_extended_err *ee, const uint8_t *quoted, size_t len) {
  napi_value obj, v;
  void *copy = NULL;
  NAPI_OK(env, napi_create_object(env, &obj));
  NAPI_OK(env, napi_create_uint32(env, ee->ee_errno, &v));
  NAPI_OK(env, napi_set_named_property(env, obj, "errno", v));
  NAPI_OK(env, napi_create_uint32(env, ee->ee_origin, &v));
  NAPI_OK(env, napi_set_named_property(env, obj, "origin", v));
  NAPI_OK(env, napi_create_uint32(env, ee->ee_type, &v));
  NAPI_OK(env, napi_set_named_property(env, obj, "type", v));
  NAPI_OK(env, napi_create_uint32(env, ee->ee_code, &v));
  NAPI_OK(env, napi_set_named_property(env, obj, "code", v));
  NAPI_OK(env, napi_create_buffer_copy(env, len, quoted, &copy, &v));
  NAPI_OK(env, napi_set_named_property(env, obj, "quoted", v));
  return obj;
}

/*
 * udpErrors(fd): the queued errors, oldest first, each with the datagram the ICMP error quoted
 * (origin 2 = ICMP, 3 = ICMPv6; type/code as the ICMP header said). [] when the queue is empty.
 */
napi_value haagent_udp_errors(napi_env env, napi_callback_info info) {
  int64_t fd = 0;
  if (!get_sole_int(env, info, "udpErrors", "udpErrors: fd", INT32_MAX, &fd)) return NULL;
  napi_value list;
  NAPI_OK(env, napi_create_array(env, &list));
  uint32_t n = 0;
  for (int i = 0; i < ERRQ_MAX; i++) {
    uint8_t quoted[QUOTE_MAX];
    uint8_t control[512];
    struct sockaddr_in6 from;
    struct iovec iov = {.iov_base = quoted, .iov_len = sizeof quoted};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t got = recvmsg((int)fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      throw_errno(env, "udpErrors: recvmsg(MSG_ERRQUEUE)", errno);
      return NULL;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
      bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      const struct sock_extended_err *ee = (const struct sock_extended_err *)CMSG_DATA(c);
      napi_value entry = error_entry(env, ee, quoted, (msg.msg_flags & MSG_TRUNC) ? 0 : (size_t)got);
      if (entry == NULL) return NULL;
      NAPI_OK(env, napi_set_element(env, list, n++, entry));
    }
  }
  return list;
}
