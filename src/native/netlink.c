/*
 * The VIP through rtnetlink, in process: one RTM_NEWADDR or RTM_DELADDR request on a
 * NETLINK_ROUTE socket and the kernel's ACK, both inside the call. Through `ip -batch` a
 * takeover waited for another process to be scheduled, run the command and answer before
 * its gratuitous ARP; the kernel handles an rtnetlink request inside sendto(), so here the
 * ACK is queued before recv() is called: two system calls, no other process.
 *
 * The request is what `ip addr add ADDR/LEN dev X [nodad]` sends (iproute2's ipaddr_modify):
 * IFA_LOCAL and IFA_ADDRESS both the address, no broadcast, the prefix, scope universe,
 * IFA_F_NODAD in ifa_flags (it fits the 8-bit field, so ip sends no IFA_FLAGS attribute),
 * NLM_F_CREATE|NLM_F_EXCL on add; `ip addr del` the same without the create flags.
 *
 * The kernel's answer is returned as a positive errno, 0 = done: EEXIST on add and
 * EADDRNOTAVAIL on del are ordinary outcomes of an idempotent verb, and the caller decides
 * what the others mean. Only local failures throw (socket, sendto, recv, a malformed answer,
 * no ACK in time), and each closes the socket: the next request opens a fresh one, so a late
 * ACK of the failed request can never be taken for the next request's.
 */
#include "napi_args.h"
#include "netlink.h"

#include <net/if.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* The wait for an ACK in all, and per recv (SO_RCVTIMEO): under 2x this at worst, in practice 0. */
#define NL_TIMEOUT_MS 1000
/* Datagrams read per request: only ACKs reach this socket (it joins no multicast group). */
#define NL_MAX_DATAGRAMS 16
/* An ACK echoes our request (under 100 bytes): a page is plenty. */
#define NL_RECV_MAX 4096
/* Header, ifaddrmsg and two 16-byte attributes: 24 + 2 * 20 bytes. */
#define NL_REQ_MAX 128

/* One socket per Node environment (main thread, each worker), closed with it. */
typedef struct {
  int fd;          /* -1: not open yet, or closed after a local failure */
  uint32_t portid; /* the port id the kernel assigned at bind: our ACKs carry it */
  uint32_t seq;    /* the last sequence number sent */
} nl_state;

typedef struct {
  int ifindex, family, prefix; /* family: AF_INET or AF_INET6 */
  unsigned char addr[16];
  size_t addr_len;
  bool nodad;
} addr_args;

static void nl_close(nl_state *st) {
  if (st->fd >= 0) close(st->fd);
  st->fd = -1;
}

static void nl_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  nl_close(data);
  free(data);
}

/* This environment's state, created at the first call; NULL with an exception pending. */
static nl_state *nl_get(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) {
    throw_napi_failure(env, "napi_get_instance_data");
    return NULL;
  }
  if (data != NULL) return data;
  nl_state *st = calloc(1, sizeof *st);
  if (st == NULL) {
    throw_errno(env, "netlink: calloc", ENOMEM);
    return NULL;
  }
  st->fd = -1;
  if (napi_set_instance_data(env, st, nl_finalize, NULL) != napi_ok) {
    free(st);
    throw_napi_failure(env, "napi_set_instance_data");
    return NULL;
  }
  return st;
}

/* Opens and binds the socket unless it is open; false with an exception pending. */
static bool nl_open(napi_env env, nl_state *st) {
  if (st->fd >= 0) return true;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    throw_errno(env, "socket(AF_NETLINK, NETLINK_ROUTE)", errno);
    return false;
  }
  struct timeval tv = {.tv_sec = NL_TIMEOUT_MS / 1000, .tv_usec = (NL_TIMEOUT_MS % 1000) * 1000};
  struct sockaddr_nl local = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel assigns a free port id */
  socklen_t len = sizeof local;
  const char *call = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) call = "setsockopt(NETLINK_ROUTE, SO_RCVTIMEO)";
  else if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) call = "bind(NETLINK_ROUTE)";
  else if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) call = "getsockname(NETLINK_ROUTE)";
  if (call != NULL) {
    int err = errno; /* close may change it */
    close(fd);
    throw_errno(env, call, err);
    return false;
  }
  st->fd = fd;
  st->portid = local.nl_pid;
  return true;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Looks for the ACK (NLMSG_ERROR) of seq to portid in one datagram. Copies each header out
 * (no aliasing or alignment assumptions about the buffer). 1: found, *answer the positive
 * errno; 0: not in this datagram; -1: malformed.
 */
static int find_ack(const unsigned char *buf, size_t n, uint32_t seq, uint32_t portid, int *answer) {
  size_t off = 0;
  while (n - off >= sizeof(struct nlmsghdr)) {
    struct nlmsghdr h;
    memcpy(&h, buf + off, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > n - off) return -1;
    if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_seq == seq && h.nlmsg_pid == portid) {
      int err;
      if (h.nlmsg_len < NLMSG_LENGTH(sizeof err)) return -1;
      memcpy(&err, buf + off + NLMSG_HDRLEN, sizeof err);
      if (err > 0 || err < -4095 /* MAX_ERRNO */) return -1;
      *answer = -err;
      return 1;
    }
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= n - off) break;
    off += step;
  }
  return 0;
}

/* Sends req and waits for its ACK; false with an exception pending on a local failure. */
static bool nl_talk(napi_env env, nl_state *st, const unsigned char *req, size_t len, uint32_t seq, int *answer) {
  const struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent = -1;
  int err = 0;
  /* A signal (libuv's SIGCHLD) may interrupt the call: retry a few times, no more. */
  for (int i = 0; i < 3 && sent < 0; i++) {
    sent = sendto(st->fd, req, len, 0, (const struct sockaddr *)&kernel, sizeof kernel);
    err = sent < 0 ? errno : 0;
    if (sent < 0 && err != EINTR) break;
  }
  if (sent < 0) {
    throw_errno(env, "sendto(NETLINK_ROUTE)", err);
    return false;
  }
  if ((size_t)sent != len) {
    throw_errno(env, "sendto(NETLINK_ROUTE): request cut short", EMSGSIZE);
    return false;
  }
  const int64_t deadline = now_ms() + NL_TIMEOUT_MS;
  unsigned char buf[NL_RECV_MAX]; /* read with memcpy only: no alignment needed */
  for (int i = 0; i < NL_MAX_DATAGRAMS && now_ms() < deadline; i++) {
    struct sockaddr_nl from = {.nl_family = AF_NETLINK};
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(st->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (n < 0) {
      err = errno;
      /* A socket with a receive timeout fails with EINTR even under SA_RESTART. */
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      throw_errno(env, "recv(NETLINK_ROUTE)", err);
      return false;
    }
    /* Only the kernel (port 0) answers requests: another process could write to our port. */
    if (flen < sizeof from || from.nl_pid != 0) continue;
    int found = find_ack(buf, (size_t)n, seq, st->portid, answer);
    if (found > 0) return true;
    if (found < 0) {
      throw_errno(env, "recv(NETLINK_ROUTE): malformed answer", EPROTO);
      return false;
    }
  }
  throw_errno(env, "recv(NETLINK_ROUTE): no ACK within 1 s", ETIMEDOUT);
  return false;
}

/* Appends one attribute; the sizes are fixed by the callers, the check keeps it that way. */
static bool put_attr(unsigned char *buf, size_t *len, unsigned short type, const void *data, size_t dlen) {
  size_t off = NLMSG_ALIGN(*len);
  if (off + RTA_SPACE(dlen) > NL_REQ_MAX) return false;
  struct rtattr rta = {.rta_len = (unsigned short)RTA_LENGTH(dlen), .rta_type = type};
  memcpy(buf + off, &rta, sizeof rta);
  memcpy(buf + off + RTA_LENGTH(0), data, dlen);
  *len = off + RTA_SPACE(dlen);
  return true;
}

/* The request ip would send, in buf (NL_REQ_MAX bytes, zeroed); its length, 0 if it does not fit. */
static size_t build_request(unsigned char *buf, const addr_args *a, bool add, uint32_t seq) {
  struct ifaddrmsg ifa = {.ifa_family = (unsigned char)a->family, .ifa_prefixlen = (unsigned char)a->prefix,
                          .ifa_flags = a->nodad ? IFA_F_NODAD : 0, .ifa_scope = RT_SCOPE_UNIVERSE,
                          .ifa_index = (unsigned int)a->ifindex};
  memcpy(buf + NLMSG_HDRLEN, &ifa, sizeof ifa);
  size_t len = NLMSG_LENGTH(sizeof ifa);
  if (!put_attr(buf, &len, IFA_LOCAL, a->addr, a->addr_len) || !put_attr(buf, &len, IFA_ADDRESS, a->addr, a->addr_len)) return 0;
  struct nlmsghdr h = {.nlmsg_len = (uint32_t)len, .nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0),
                       .nlmsg_seq = seq};
  memcpy(buf, &h, sizeof h);
  return len;
}

/* (ifindex, family 4|6, address Buffer of 4|16 bytes, prefix[, nodad]) into *a. */
#define ARG(what) (add ? "addrAdd: " what : "addrDel: " what)
static bool get_addr_args(napi_env env, napi_callback_info info, bool add, addr_args *a) {
  napi_value argv[5];
  int64_t ifindex, family, prefix;
  void *data = NULL;
  size_t len = 0;
  if (!get_args(env, info, add ? 5 : 4, argv, add ? "addrAdd" : "addrDel")) return false;
  if (!get_int(env, argv[0], 1, INT32_MAX, &ifindex, ARG("ifindex"))) return false;
  if (!get_int(env, argv[1], 4, 6, &family, ARG("family"))) return false;
  if (family == 5) {
    throw_type(env, ARG("family must be 4 or 6"));
    return false;
  }
  const size_t bytes = family == 4 ? 4 : 16; /* the address, and the prefix's limit */
  if (!get_buffer(env, argv[2], bytes, bytes, &data, &len, ARG("address"))) return false;
  if (!get_int(env, argv[3], 0, (int64_t)bytes * 8, &prefix, ARG("prefix"))) return false;
  a->nodad = false;
  if (add) {
    if (!get_bool(env, argv[4], &a->nodad, "addrAdd: nodad")) return false;
    /* The kernel would store the flag on an IPv4 address, where it means nothing. */
    if (a->nodad && family == 4) {
      throw_type(env, "addrAdd: nodad is for IPv6 addresses only");
      return false;
    }
  }
  a->ifindex = (int)ifindex;
  a->family = family == 4 ? AF_INET : AF_INET6;
  memcpy(a->addr, data, len);
  a->addr_len = len;
  a->prefix = (int)prefix;
  return true;
}
#undef ARG

static napi_value addr_request(napi_env env, napi_callback_info info, bool add) {
  addr_args a;
  if (!get_addr_args(env, info, add, &a)) return NULL;
  nl_state *st = nl_get(env);
  if (st == NULL || !nl_open(env, st)) return NULL;
  unsigned char req[NL_REQ_MAX] = {0};
  uint32_t seq = ++st->seq;
  size_t len = build_request(req, &a, add, seq);
  if (len == 0) {
    throw_errno(env, "netlink: request does not fit", EMSGSIZE);
    return NULL;
  }
  int answer = 0;
  if (!nl_talk(env, st, req, len, seq, &answer)) {
    nl_close(st);
    return NULL;
  }
  napi_value out;
  NAPI_OK(env, napi_create_int32(env, answer, &out));
  return out;
}

napi_value nl_addr_add(napi_env env, napi_callback_info info) {
  return addr_request(env, info, true);
}

napi_value nl_addr_del(napi_env env, napi_callback_info info) {
  return addr_request(env, info, false);
}

napi_value nl_if_index(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[IFNAMSIZ];
  if (!get_args(env, info, 1, argv, "ifIndex")) return NULL;
  if (!get_string(env, argv[0], name, sizeof name, "ifIndex: name")) return NULL;
  errno = 0;
  unsigned int index = if_nametoindex(name);
  if (index == 0 || index > INT32_MAX) {
    int err = index == 0 && errno != 0 ? errno : ENODEV;
    char call[48];
    snprintf(call, sizeof call, "if_nametoindex(%s)", name);
    throw_errno(env, call, err);
    return NULL;
  }
  napi_value out;
  NAPI_OK(env, napi_create_int32(env, (int32_t)index, &out));
  return out;
}
