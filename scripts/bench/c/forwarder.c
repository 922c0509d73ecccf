/*
 * The floor of rr-tcp's design: the same architecture with nothing but the hop. One epoll loop
 * accepts TCP clients on loopback, sends each message (bytes up to a read that ends in "\r\n",
 * one message in flight per connection) to an idle worker process over pipes as a goridge
 * request frame (one option, the context length; a small JSON context; the message as body),
 * and writes the body of the worker's reply frame back to the client. Busy workers: the
 * connection waits in a FIFO. No CONNECTED or CLOSE events, no limits, no supervision.
 *
 *   cc -O2 -o forwarder forwarder.c
 *   ./forwarder PORT WORKERS WORKER-COMMAND   (PORT 0 picks one; prints "listening PORT")
 *
 * Workers get the pid handshake of docs/wire.md first. When the forwarder dies their stdin
 * reaches EOF and they exit.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "goridge.h"

#define MAX_FDS 65536
#define MAX_WORKERS 64
#define DELIM "\r\n"

struct client {
  uint8_t *buf; /* bytes read, the message in flight first */
  size_t len, cap;
  size_t msg_len; /* length of the message with a worker or queued; 0 when none */
  int closing;    /* EOF seen while a message was out: close once it is answered */
  char ctx[160];  /* this connection's JSON context */
  size_t ctx_len;
};

struct worker {
  int to_fd, from_fd; /* its stdin and stdout */
  int client;         /* the client whose message it has, or -1 */
  uint8_t *buf;       /* reply bytes read so far */
  size_t len, cap;
};

static struct client *clients[MAX_FDS];
static struct worker workers[MAX_WORKERS];
static int nworkers, epfd;
static int queue[MAX_FDS]; /* ring of client fds waiting for a worker */
static size_t q_head, q_len;
static uint8_t *frame; /* scratch for one request frame */
static size_t frame_cap = 1 << 16;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void reserve(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap) return;
  if (*cap == 0) *cap = 4096;
  while (*cap < need) *cap *= 2;
  *buf = realloc(*buf, *cap);
  if (!*buf) die("realloc");
}

/* epoll tags: the low 32 bits hold an fd or a worker index. */
enum { TAG_LISTEN = 1, TAG_CLIENT = 2, TAG_WORKER = 3 };
static uint64_t tag(int kind, int n) { return (uint64_t)kind << 32 | (uint32_t)n; }

static void watch(int fd, uint64_t data) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static void close_client(int fd) {
  struct client *c = clients[fd];
  free(c->buf);
  free(c);
  clients[fd] = NULL;
  close(fd); /* also leaves the epoll set */
}

/* Sends a client's message to a worker: header + context + body in one write(2). */
static void dispatch(struct worker *w, int fd) {
  struct client *c = clients[fd];
  size_t n = c->ctx_len + c->msg_len;
  reserve(&frame, &frame_cap, 16 + n);
  size_t h = put_header(frame, 0, (uint32_t)n, 1, (uint32_t)c->ctx_len);
  memcpy(frame + h, c->ctx, c->ctx_len);
  memcpy(frame + h + c->ctx_len, c->buf, c->msg_len);
  if (write_all(w->to_fd, frame, h + n) < 0) die("write to worker");
  w->client = fd;
}

/* A client has a whole message: give it to an idle worker, else queue the connection. */
static void submit(int fd) {
  for (int i = 0; i < nworkers; i++) {
    if (workers[i].client < 0) {
      dispatch(&workers[i], fd);
      return;
    }
  }
  queue[(q_head + q_len++) % MAX_FDS] = fd;
}

/* Marks the message at the front of the client's buffer when the bytes so far end a message. */
static int message_ready(struct client *c) {
  if (c->msg_len || c->len < 2 || memcmp(c->buf + c->len - 2, DELIM, 2) != 0) return 0;
  c->msg_len = c->len;
  return 1;
}

static void on_client(int fd) {
  struct client *c = clients[fd];
  reserve(&c->buf, &c->cap, c->len + 65536);
  ssize_t r = read(fd, c->buf + c->len, c->cap - c->len);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) {
    if (c->msg_len) { /* a worker or the queue still holds its message: answer, then close */
      c->closing = 1;
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    } else {
      close_client(fd);
    }
    return;
  }
  c->len += (size_t)r;
  if (message_ready(c)) submit(fd);
}

/* The worker's reply, once complete: its body goes to the client, the worker takes the next. */
static void on_worker(struct worker *w) {
  reserve(&w->buf, &w->cap, w->len + 65536);
  ssize_t r = read(w->from_fd, w->buf + w->len, w->cap - w->len);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) die("worker exited");
  w->len += (size_t)r;
  if (w->len < GORIDGE_HEADER) return;
  size_t hl = header_len(w->buf), n = payload_len(w->buf);
  if (w->len < hl + n) return;
  if (hl < 16 || (w->buf[1] & GORIDGE_ERROR)) die("unexpected reply frame");
  size_t ctx_len = get_u32(w->buf + 12);
  const uint8_t *body = w->buf + hl + ctx_len;
  size_t body_len = n - ctx_len;

  int fd = w->client;
  struct client *c = clients[fd];
  if (body_len) write_all(fd, body, body_len); /* a half-closed client still reads */
  if (c->closing) {
    close_client(fd);
  } else {
    memmove(c->buf, c->buf + c->msg_len, c->len - c->msg_len);
    c->len -= c->msg_len;
    c->msg_len = 0;
    if (message_ready(c)) submit(fd); /* bytes that came while it was out */
  }
  /* One reply per request, so nothing follows it in the buffer. */
  w->len = 0;
  w->client = -1;
  while (q_len) {
    int next = queue[q_head];
    q_head = (q_head + 1) % MAX_FDS;
    q_len--;
    if (clients[next]->closing) {
      close_client(next);
      continue;
    }
    dispatch(w, next);
    break;
  }
}

static void on_listen(int lfd) {
  for (;;) {
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN: all accepted */
    if (fd >= MAX_FDS) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct client *c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    static unsigned serial;
    c->ctx_len = (size_t)snprintf(c->ctx, sizeof c->ctx,
                                  "{\"remote_addr\":\"127.0.0.1:%u\",\"server\":\"bench\","
                                  "\"uuid\":\"00000000-0000-4000-8000-%012u\",\"event\":\"DATA\"}",
                                  ntohs(peer.sin_port), ++serial);
    clients[fd] = c;
    watch(fd, tag(TAG_CLIENT, fd));
  }
}

/* Starts a worker with its stdin and stdout on pipes and does the pid handshake. */
static void spawn_worker(struct worker *w, char **argv) {
  int down[2], up[2]; /* forwarder -> worker, worker -> forwarder */
  if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0) die("pipe2");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    dup2(down[0], 0); /* dup2 clears O_CLOEXEC on 0 and 1 only */
    dup2(up[1], 1);
    execv(argv[0], argv);
    _exit(127);
  }
  close(down[0]);
  close(up[1]);
  w->to_fd = down[1];
  w->from_fd = up[0];
  w->client = -1;
  w->cap = 1 << 16;
  w->buf = malloc(w->cap);

  uint8_t h[GORIDGE_HEADER + 64]; /* the pid reply, {"pid":N,"echo_event_id":true} from the C worker */
  int len = snprintf((char *)h + GORIDGE_HEADER, 32, "{\"pid\":%d}", (int)getpid());
  put_header(h, 0x09, (uint32_t)len, 0, 0); /* CONTROL | CodecJSON, as the server sends it */
  if (write_all(w->to_fd, h, GORIDGE_HEADER + (size_t)len) < 0) die("handshake write");
  size_t got = 0;
  while (got < GORIDGE_HEADER || got < header_len(h) + payload_len(h)) {
    ssize_t r = read(w->from_fd, h + got, sizeof h - got);
    if (r <= 0) die("handshake read");
    got += (size_t)r;
  }
  if (!(h[1] & GORIDGE_CONTROL)) die("handshake: no CONTROL flag in the reply");
  fcntl(w->from_fd, F_SETFL, O_NONBLOCK);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT WORKERS WORKER-COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  crc_init();
  signal(SIGPIPE, SIG_IGN);
  frame = malloc(frame_cap);
  nworkers = atoi(argv[2]);
  if (nworkers < 1 || nworkers > MAX_WORKERS) return 2;
  epfd = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < nworkers; i++) {
    spawn_worker(&workers[i], argv + 3);
    watch(workers[i].from_fd, tag(TAG_WORKER, i));
  }

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0) die("listen");
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  watch(lfd, tag(TAG_LISTEN, lfd));
  printf("listening %u\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      int kind = (int)(events[i].data.u64 >> 32), id = (int)(uint32_t)events[i].data.u64;
      if (kind == TAG_LISTEN) on_listen(id);
      else if (kind == TAG_WORKER) on_worker(&workers[id]);
      else if (clients[id]) on_client(id);
    }
  }
}
