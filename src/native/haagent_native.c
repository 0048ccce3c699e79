/*
 * haagent_native: the things Node cannot do and no maintained npm package does.
 *
 *  - Raw Ethernet frames through an AF_PACKET socket, so a gratuitous ARP leaves in the
 *    same event-loop turn as the takeover instead of after an arping fork+exec (3 ms idle,
 *    10-30 ms under load). raw-socket is IP-level only; `cap` is unmaintained.
 *  - sched_setscheduler/sched_getscheduler, so the agent can run its loop SCHED_RR with
 *    SCHED_RESET_ON_FORK (hooks, health checks and ip helpers must not inherit it).
 *  - Adding and removing the VIP through rtnetlink (netlink.c), so a takeover does not wait
 *    for an `ip` child to be scheduled, run and answer before its gratuitous ARP.
 *  - A libuv timer the election loop can move without a stale wake-up (timer.c).
 *  - The heartbeat MAC (mac.c): sealing and checking each datagram without an OpenSSL
 *    context and three JS objects per call.
 *  - The peer's heartbeat socket with its ICMP error queue (udp.c), so a "port unreachable"
 *    can be checked against the datagram it quotes.
 *  - execve (exec.c), so the agent can relaunch itself with its node flags under the same PID.
 *  - The control socket's peer (cred.c, SO_PEERCRED), so state changes are logged with the caller's uid.
 *
 * Plain C against Node-API (ABI-stable: no rebuild per Node version). Every argument is
 * checked here and a bad one is a TypeError: a wrong call from JS must never crash the
 * process. A failing system call throws an Error whose `code` is the errno name and whose
 * message names the call.
 */
#include "napi_args.h"
#include "netlink.h"
#include "timer.h"
#include "mac.h"
#include "udp.h"
#include "exec.h"
#include "cred.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_packet.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

#define ETH_ALEN_ 6
#define ETH_HLEN_ 14
/* The largest frame we accept: a jumbo frame; anything bigger is a caller bug. */
#define FRAME_MAX 9216

/*
 * Only our own kind of socket may be written to or closed: a stray fd (a TCP socket of the
 * agent, stdout) must not get a frame written into it or be closed under libuv.
 */
static bool require_packet_socket(napi_env env, int fd, const char *fn) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
    int err = errno; /* before snprintf, which may change it */
    char call[96];
    snprintf(call, sizeof call, "%s: getsockopt(%d, SO_DOMAIN)", fn, fd);
    throw_errno(env, call, err);
    return false;
  }
  if (domain != AF_PACKET) {
    char call[96];
    snprintf(call, sizeof call, "%s: fd %d is not an AF_PACKET socket", fn, fd);
    throw_errno(env, call, EBADF);
    return false;
  }
  return true;
}

/* Builds { fd, ifindex, mac }; NULL with an exception pending on failure (the caller closes fd). */
static napi_value open_result(napi_env env, int fd, int ifindex, const unsigned char *mac) {
  napi_value obj, vfd, vindex, vmac;
  void *data = NULL;
  NAPI_OK(env, napi_create_object(env, &obj));
  NAPI_OK(env, napi_create_int32(env, fd, &vfd));
  NAPI_OK(env, napi_create_int32(env, ifindex, &vindex));
  NAPI_OK(env, napi_create_buffer_copy(env, ETH_ALEN_, mac, &data, &vmac));
  NAPI_OK(env, napi_set_named_property(env, obj, "fd", vfd));
  NAPI_OK(env, napi_set_named_property(env, obj, "ifindex", vindex));
  NAPI_OK(env, napi_set_named_property(env, obj, "mac", vmac));
  return obj;
}

/* Closes the half-opened socket and throws err as "<what> (<ifname>): <strerror>". */
static napi_value open_failed(napi_env env, int fd, const char *what, const char *name, int err) {
  close(fd); /* err was read before: close may change errno */
  char call[96];
  snprintf(call, sizeof call, "%s (%s)", what, name);
  throw_errno(env, call, err);
  return NULL;
}

/*
 * packetOpen(ifname) -> { fd, ifindex, mac }. Protocol 0: the socket is bound to no
 * ethertype, so the kernel queues nothing to it and it never needs draining.
 */
static napi_value packet_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[IFNAMSIZ];
  if (!get_args(env, info, 1, argv, "packetOpen")) return NULL;
  if (!get_string(env, argv[0], name, sizeof name, "packetOpen: ifname")) return NULL;

  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_PACKET, SOCK_RAW)", errno);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name) + 1);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) return open_failed(env, fd, "ioctl(SIOCGIFINDEX)", name, errno);
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return open_failed(env, fd, "ioctl(SIOCGIFHWADDR)", name, errno);
  /* A frame we build is Ethernet: a tunnel or loopback device would get garbage. */
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return open_failed(env, fd, "packetOpen: not an Ethernet device", name, EOPNOTSUPP);
  }
  unsigned char mac[ETH_ALEN_];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN_);
  napi_value result = open_result(env, fd, ifindex, mac);
  if (result == NULL) close(fd);
  return result;
}

/* packetSend(fd, ifindex, frame) -> bytes sent. One sendto; EAGAIN throws like any error. */
static napi_value packet_send(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, ifindex;
  void *data = NULL;
  size_t len = 0;
  if (!get_args(env, info, 3, argv, "packetSend")) return NULL;
  if (!get_int(env, argv[0], 0, INT32_MAX, &fd, "packetSend: fd")) return NULL;
  if (!get_int(env, argv[1], 1, INT32_MAX, &ifindex, "packetSend: ifindex")) return NULL;
  /* At least an Ethernet header. */
  if (!get_buffer(env, argv[2], ETH_HLEN_, FRAME_MAX, &data, &len, "packetSend: frame")) return NULL;
  if (!require_packet_socket(env, (int)fd, "packetSend")) return NULL;

  const unsigned char *frame = data;
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  /* Bytes 12-13 are the ethertype, already in network order as sll_protocol wants it. */
  memcpy(&to.sll_protocol, frame + 12, sizeof to.sll_protocol);
  to.sll_ifindex = (int)ifindex;
  to.sll_halen = ETH_ALEN_;
  memcpy(to.sll_addr, frame, ETH_ALEN_);

  ssize_t n = sendto((int)fd, frame, len, 0, (const struct sockaddr *)&to, sizeof to);
  if (n < 0) {
    throw_errno(env, "sendto(AF_PACKET)", errno);
    return NULL;
  }
  napi_value out;
  NAPI_OK(env, napi_create_int64(env, (int64_t)n, &out));
  return out;
}

static napi_value packet_close(napi_env env, napi_callback_info info) {
  int64_t fd;
  if (!get_sole_int(env, info, "packetClose", "packetClose: fd", INT32_MAX, &fd)) return NULL;
  if (!require_packet_socket(env, (int)fd, "packetClose")) return NULL;
  /* Linux releases the descriptor even when close reports EINTR: never retry. */
  if (close((int)fd) != 0 && errno != EINTR) {
    throw_errno(env, "close", errno);
    return NULL;
  }
  return NULL;
}

static const struct {
  const char *name;
  int policy;
} POLICIES[] = {
    {"other", SCHED_OTHER}, {"fifo", SCHED_FIFO}, {"rr", SCHED_RR}, {"batch", SCHED_BATCH}, {"idle", SCHED_IDLE},
};

/* setScheduler(tid, policy, priority, resetOnFork). tid 0 = the calling thread only. */
static napi_value set_scheduler(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t tid, priority;
  char name[16];
  bool reset = false;
  if (!get_args(env, info, 4, argv, "setScheduler")) return NULL;
  if (!get_int(env, argv[0], 0, INT32_MAX, &tid, "setScheduler: tid")) return NULL;
  if (!get_string(env, argv[1], name, sizeof name, "setScheduler: policy ('other', 'rr' or 'fifo')")) return NULL;
  if (!get_int(env, argv[2], 0, 99, &priority, "setScheduler: priority")) return NULL;
  if (!get_bool(env, argv[3], &reset, "setScheduler: resetOnFork")) return NULL;
  int policy = -1;
  /* Only the three policies the agent has a use for can be set. */
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(name, POLICIES[i].name) == 0) policy = POLICIES[i].policy;
  }
  if (policy < 0) {
    throw_type(env, "setScheduler: policy must be 'other', 'rr' or 'fifo'");
    return NULL;
  }
  struct sched_param param;
  memset(&param, 0, sizeof param);
  param.sched_priority = (int)priority;
  if (sched_setscheduler((pid_t)tid, policy | (reset ? SCHED_RESET_ON_FORK : 0), &param) != 0) {
    throw_errno(env, "sched_setscheduler", errno);
    return NULL;
  }
  return NULL;
}

/* getScheduler(tid) -> { policy, priority, resetOnFork }. */
static napi_value get_scheduler(napi_env env, napi_callback_info info) {
  int64_t tid;
  if (!get_sole_int(env, info, "getScheduler", "getScheduler: tid", INT32_MAX, &tid)) return NULL;
  int raw = sched_getscheduler((pid_t)tid);
  if (raw < 0) {
    throw_errno(env, "sched_getscheduler", errno);
    return NULL;
  }
  struct sched_param param;
  memset(&param, 0, sizeof param);
  if (sched_getparam((pid_t)tid, &param) != 0) {
    throw_errno(env, "sched_getparam", errno);
    return NULL;
  }
  int policy = raw & ~SCHED_RESET_ON_FORK;
  char other[32];
  const char *name = NULL;
  for (size_t i = 0; i < sizeof POLICIES / sizeof POLICIES[0]; i++) {
    if (POLICIES[i].policy == policy) name = POLICIES[i].name;
  }
  if (name == NULL) {
    /* SCHED_DEADLINE and anything newer: reported by number rather than refused. */
    snprintf(other, sizeof other, "policy-%d", policy);
    name = other;
  }
  napi_value obj, vpolicy, vprio, vreset;
  NAPI_OK(env, napi_create_object(env, &obj));
  NAPI_OK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &vpolicy));
  NAPI_OK(env, napi_create_int32(env, param.sched_priority, &vprio));
  NAPI_OK(env, napi_get_boolean(env, (raw & SCHED_RESET_ON_FORK) != 0, &vreset));
  NAPI_OK(env, napi_set_named_property(env, obj, "policy", vpolicy));
  NAPI_OK(env, napi_set_named_property(env, obj, "priority", vprio));
  NAPI_OK(env, napi_set_named_property(env, obj, "resetOnFork", vreset));
  return obj;
}

/* gettid() -> the calling thread's id (the main thread's equals process.pid). */
static napi_value get_tid(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  NAPI_OK(env, napi_create_int32(env, (int32_t)syscall(SYS_gettid), &out));
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  const napi_property_descriptor props[] = {
      {"packetOpen", NULL, packet_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetClose", NULL, packet_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setScheduler", NULL, set_scheduler, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getScheduler", NULL, get_scheduler, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gettid", NULL, get_tid, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifIndex", NULL, nl_if_index, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addrAdd", NULL, nl_addr_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addrDel", NULL, nl_addr_del, NULL, NULL, NULL, napi_enumerable, NULL},
      {"timerNew", NULL, haagent_timer_new, NULL, NULL, NULL, napi_enumerable, NULL},
      {"timerStart", NULL, haagent_timer_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"timerStop", NULL, haagent_timer_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"macKey", NULL, haagent_mac_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"macSeal", NULL, haagent_mac_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"macCheck", NULL, haagent_mac_check, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSocket", NULL, haagent_udp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpErrors", NULL, haagent_udp_errors, NULL, NULL, NULL, napi_enumerable, NULL},
      {"execve", NULL, haagent_execve, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerCred", NULL, haagent_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_OK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
