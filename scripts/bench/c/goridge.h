/*
 * The few goridge pieces the benchmark's C programs share: the header CRC and the header
 * layout of docs/wire.md ("Frame header"). Header-only, so each program compiles from one
 * command line: cc -O2 -o forwarder forwarder.c (this file is included, not linked).
 */
#ifndef BENCH_GORIDGE_H
#define BENCH_GORIDGE_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define GORIDGE_CONTROL 0x01
#define GORIDGE_ERROR 0x40
#define GORIDGE_HEADER 12 /* without options; each option adds 4 bytes */

/* CRC-32/IEEE (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), by table. */
static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

static uint32_t crc32_bytes(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = (v >> 24) & 0xFF;
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Writes a frame header with `nopt` options (0, 1 or 2 here: opt0, then opt1) into h and
 * returns its length. The CRC covers bytes 0..5 only, so it is computed after byte 0 holds the
 * final HL.
 */
static inline size_t put_header2(uint8_t *h, uint8_t flags, uint32_t payload_len, int nopt, uint32_t opt0, uint32_t opt1) {
  h[0] = (uint8_t)(0x10 | (3 + nopt));
  h[1] = flags;
  put_u32(h + 2, payload_len);
  put_u32(h + 6, crc32_bytes(h, 6));
  h[10] = 0;
  h[11] = 0;
  if (nopt > 0) put_u32(h + 12, opt0);
  if (nopt > 1) put_u32(h + 16, opt1);
  return GORIDGE_HEADER + 4 * (size_t)nopt;
}

static inline size_t put_header(uint8_t *h, uint8_t flags, uint32_t payload_len, int nopt, uint32_t opt0) {
  return put_header2(h, flags, payload_len, nopt, opt0, 0);
}

/* The header's total length (12 + 4 per option) and payload length, from its first 12 bytes. */
static size_t header_len(const uint8_t *h) { return 4 * (size_t)(h[0] & 0x0F); }
static uint32_t payload_len(const uint8_t *h) { return get_u32(h + 2); }

/* write(2) until all n bytes are out; on a non-blocking fd it spins on EAGAIN (a bench tool). */
static int write_all(int fd, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

#endif
