/*
 * A C echo worker on the goridge pipe relay: frames in on stdin, frames out on stdout, one
 * reply per request, as docs/wire.md describes. It serves both the C forwarder (the floor) and
 * rr-tcp itself (as its worker command), so rr-tcp's server can be measured without any SDK.
 *
 *   - control frame with "pid"  -> control frame {"pid":<own pid>,"echo_event_id":true}, FLAGS
 *     0x01 (the handshake; rr-tcp then sends an event id as each request's second option,
 *     docs/wire.md#event-ids-rr-tcp, and this worker repeats it in the reply, as rr-tcp's SDKs
 *     do; the C forwarder sends none). With ECHO_EVENT_ID=0 in its environment it says only its
 *     pid, as spiral/roadrunner-tcp does, and rr-tcp holds it after each reply
 *     (docs/behaviour.md#replies-matched-to-their-events)
 *   - control frame with "stop" -> exit 0 (the server's stop command)
 *   - payload frame, context event DATA -> WRITE with the same body
 *   - payload frame, any other event (CONNECTED, CLOSE) -> CONTINUE, empty body
 *
 * Blocking I/O: one read(2) usually brings a whole request, one write(2) sends the reply, so
 * an event costs two syscalls. The context is not parsed beyond looking for the DATA event.
 *
 *   cc -O2 -o echo-worker echo-worker.c
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>

#include "goridge.h"

static uint8_t *in;           /* bytes read from stdin, not yet consumed */
static size_t in_cap = 1 << 20, in_len;
static uint8_t *out;          /* one reply frame at a time */
static size_t out_cap = 1 << 20;

static void grow(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap) return;
  while (*cap < need) *cap *= 2;
  *buf = realloc(*buf, *cap);
  if (!*buf) exit(3);
}

/* Sends one frame with `nopt` options (0, 1, or 2 with the event id); the payload is ctx then body. */
static void reply(uint8_t flags, int nopt, uint32_t id, const char *ctx, size_t ctx_len, const uint8_t *body, size_t body_len) {
  grow(&out, &out_cap, 20 + ctx_len + body_len);
  size_t h = put_header2(out, flags, (uint32_t)(ctx_len + body_len), nopt, (uint32_t)ctx_len, id);
  memcpy(out + h, ctx, ctx_len);
  if (body_len) memcpy(out + h + ctx_len, body, body_len);
  if (write_all(1, out, h + ctx_len + body_len) < 0) exit(0); /* the server went away */
}

/* Handles one complete frame: header h (hl bytes with options), payload p of n bytes. */
static void handle(const uint8_t *h, size_t hl, const uint8_t *p, size_t n) {
  if (h[1] & GORIDGE_CONTROL) {
    if (memmem(p, n, "\"stop\"", 6)) exit(0);
    if (memmem(p, n, "\"pid\"", 5)) {
      char json[64];
      const char *echo = getenv("ECHO_EVENT_ID");
      int ids = !(echo && strcmp(echo, "0") == 0);
      int len = snprintf(json, sizeof json, ids ? "{\"pid\":%d,\"echo_event_id\":true}" : "{\"pid\":%d}", (int)getpid());
      reply(GORIDGE_CONTROL, 0, 0, json, (size_t)len, NULL, 0);
    }
    return;
  }
  if (hl < 16) exit(4); /* a payload frame has one option, the context length */
  size_t ctx_len = get_u32(h + 12);
  if (ctx_len > n) exit(4);
  /* The event id, when the request has one (a second option), goes back as the reply's. */
  int nopt = hl >= 20 ? 2 : 1;
  uint32_t id = hl >= 20 ? get_u32(h + 16) : 0;
  if (memmem(p, ctx_len, "\"event\":\"DATA\"", 14))
    reply(0, nopt, id, "WRITE", 5, p + ctx_len, n - ctx_len);
  else
    reply(0, nopt, id, "CONTINUE", 8, NULL, 0);
}

int main(void) {
  crc_init();
  in = malloc(in_cap);
  out = malloc(out_cap);
  if (!in || !out) return 3;
  for (;;) {
    /* Consume every complete frame in the buffer. */
    size_t off = 0;
    while (in_len - off >= GORIDGE_HEADER) {
      const uint8_t *h = in + off;
      size_t hl = header_len(h), n = payload_len(h);
      if (hl < GORIDGE_HEADER) return 4;
      if (in_len - off < hl + n) {
        grow(&in, &in_cap, hl + n); /* h may move: recomputed after the shift below */
        break;
      }
      handle(h, hl, h + hl, n);
      off += hl + n;
    }
    memmove(in, in + off, in_len - off);
    in_len -= off;
    ssize_t r = read(0, in + in_len, in_cap - in_len);
    if (r == 0) return 0; /* EOF: the server closed our stdin */
    if (r < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    in_len += (size_t)r;
  }
}
