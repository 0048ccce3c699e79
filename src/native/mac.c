/*
 * HMAC-SHA256/128 for the heartbeat hot path (wire format: docs/protocol.md).
 *
 * Why here and not node:crypto: every heartbeat is sealed or checked once, a hundred times a
 * second at 10 ms, and each time after the process slept. createHmac then costs ~100 us on
 * this project's test machines (a JS object, a C++ object, an OpenSSL context, a Buffer for
 * the digest, all cold), where the two SHA-256 compressions it needs take ~1 us. Here the
 * key's inner and outer pads are absorbed once (macKey); a seal or a check then runs the
 * compressions on stack memory and writes nothing but the 16 MAC bytes.
 *
 * SHA-256 as FIPS 180-4 specifies it, HMAC as RFC 2104 (key longer than the block hashed
 * first, shorter zero-padded). test/unit/adapters-native-mac.test.ts checks both against
 * node:crypto on random keys and messages of every length up to past the datagram limit.
 */
#include "mac.h"

#include <stdlib.h>

#define BLOCK 64
#define DIGEST 32
#define MAC_LEN 16
#define DATAGRAM_MAX 65536

typedef struct {
  uint32_t h[8];
} sha256_state;

typedef struct {
  sha256_state inner; /* after absorbing key ^ ipad */
  sha256_state outer; /* after absorbing key ^ opad */
} mac_key;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static inline uint32_t rotr(uint32_t x, unsigned n) {
  return (x >> n) | (x << (32u - n));
}

static inline uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* One 64-byte block into the state (FIPS 180-4 section 6.2.2). */
static void compress(sha256_state *s, const uint8_t *block) {
  uint32_t w[64];
  for (int t = 0; t < 16; t++) w[t] = load_be32(block + 4 * t);
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
  for (int t = 0; t < 64; t++) {
    uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s->h[0] += a;
  s->h[1] += b;
  s->h[2] += c;
  s->h[3] += d;
  s->h[4] += e;
  s->h[5] += f;
  s->h[6] += g;
  s->h[7] += h;
}

/*
 * Finishes a hash whose state has absorbed `prefix` bytes (whole blocks) with the `len`
 * bytes of data: the rest of the message, the 0x80 padding and the bit length.
 */
static void finish(sha256_state s, uint64_t prefix, const uint8_t *data, size_t len, uint8_t out[DIGEST]) {
  uint64_t bits = (prefix + (uint64_t)len) * 8u;
  while (len >= BLOCK) {
    compress(&s, data);
    data += BLOCK;
    len -= BLOCK;
  }
  uint8_t tail[2 * BLOCK];
  memset(tail, 0, sizeof tail);
  memcpy(tail, data, len);
  tail[len] = 0x80;
  size_t total = len + 1 + 8 <= BLOCK ? BLOCK : 2 * BLOCK;
  for (int i = 0; i < 8; i++) tail[total - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
  compress(&s, tail);
  if (total == 2 * BLOCK) compress(&s, tail + BLOCK);
  for (int i = 0; i < 8; i++) store_be32(out + 4 * i, s.h[i]);
}

static void mac_of(const mac_key *k, const uint8_t *data, size_t len, uint8_t out[DIGEST]) {
  uint8_t inner[DIGEST];
  finish(k->inner, BLOCK, data, len, inner);
  finish(k->outer, BLOCK, inner, DIGEST, out);
}

static void key_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  volatile uint8_t *p = (volatile uint8_t *)data; /* the pads' states are as secret as the key */
  for (size_t i = 0; i < sizeof(mac_key); i++) p[i] = 0;
  free(data);
}

/* macKey(key: Buffer): an object holding the key's absorbed pads (the key itself is not kept). */
napi_value haagent_mac_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], obj;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *keyp = NULL;
  size_t klen = 0;
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "macKey: expected a key");
    return NULL;
  }
  if (!get_buffer(env, argv[0], 1, 4096, &keyp, &klen, "macKey: the key")) return NULL;
  const uint8_t *key = (const uint8_t *)keyp;
  uint8_t k0[BLOCK], pad[BLOCK];
  memset(k0, 0, sizeof k0);
  if (klen > BLOCK) {
    sha256_state s;
    memcpy(s.h, H0, sizeof H0);
    finish(s, 0, key, klen, k0);
  } else {
    memcpy(k0, key, klen);
  }
  mac_key *k = (mac_key *)calloc(1, sizeof *k);
  if (k == NULL) {
    throw_errno(env, "macKey: calloc", ENOMEM);
    return NULL;
  }
  memcpy(k->inner.h, H0, sizeof H0);
  memcpy(k->outer.h, H0, sizeof H0);
  for (int i = 0; i < BLOCK; i++) pad[i] = k0[i] ^ 0x36;
  compress(&k->inner, pad);
  for (int i = 0; i < BLOCK; i++) pad[i] = k0[i] ^ 0x5c;
  compress(&k->outer, pad);
  memset(k0, 0, sizeof k0);
  memset(pad, 0, sizeof pad);
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, k, key_finalize, NULL, NULL) != napi_ok) {
    key_finalize(env, k, NULL);
    throw_napi_failure(env, "macKey");
    return NULL;
  }
  return obj;
}

/*
 * A seal or check call: unwraps the key and the datagram (at least MAC_LEN bytes) and computes
 * the MAC of all but its last MAC_LEN bytes. false with an exception pending on a bad call.
 */
static bool mac_call(napi_env env, napi_callback_info info, const char *fn, uint8_t **buf, size_t *len, uint8_t mac[DIGEST]) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, fn);
    return false;
  }
  void *data = NULL;
  char msg[96];
  if (argc < 2 || napi_unwrap(env, argv[0], &data) != napi_ok || data == NULL) {
    snprintf(msg, sizeof msg, "%s: expected (key from macKey, datagram)", fn);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  snprintf(msg, sizeof msg, "%s: the datagram", fn);
  void *p = NULL;
  if (!get_buffer(env, argv[1], MAC_LEN, DATAGRAM_MAX, &p, len, msg)) return false;
  *buf = (uint8_t *)p;
  mac_of((const mac_key *)data, *buf, *len - MAC_LEN, mac);
  return true;
}

/* macSeal(key, datagram): writes the MAC of every byte before the last 16 into those 16. */
napi_value haagent_mac_seal(napi_env env, napi_callback_info info) {
  uint8_t *buf = NULL, mac[DIGEST];
  size_t len = 0;
  if (!mac_call(env, info, "macSeal", &buf, &len, mac)) return NULL;
  memcpy(buf + len - MAC_LEN, mac, MAC_LEN);
  return NULL;
}

/* macCheck(key, datagram): whether the last 16 bytes are the MAC of the rest (constant time). */
napi_value haagent_mac_check(napi_env env, napi_callback_info info) {
  uint8_t *buf = NULL, mac[DIGEST];
  size_t len = 0;
  if (!mac_call(env, info, "macCheck", &buf, &len, mac)) return NULL;
  uint8_t diff = 0;
  for (int i = 0; i < MAC_LEN; i++) diff |= (uint8_t)(mac[i] ^ buf[len - MAC_LEN + (size_t)i]);
  napi_value result;
  NAPI_OK(env, napi_get_boolean(env, diff == 0, &result));
  return result;
}
