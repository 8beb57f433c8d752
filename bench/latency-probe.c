// A fixed-rate (open-loop) load generator for latency: requests leave on a
// schedule whether or not earlier ones have answered, and each one's latency
// runs from when it was due, so a stall counts against every request it
// delays. wrk is closed-loop, and h2load's --rps sends in 10 ms bursts. In C
// because a Node client tops out near the rates measured here and its own
// queueing became most of the tail it reported.
//
// With RATE 0 it is closed-loop over HTTP/2 instead, as h2load -c -m is, for
// a peak: -c connections, each keeping -m requests in flight. h2load sends
// one body over and over, and a Create or Accept repeated is an idempotent
// replay that writes nothing; this sends each request a body of its own.
//
// HTTP/1.1: up to 64 keep-alive connections, one request at a time on each
// (as Node's agent does); a request due while all are busy waits in line.
// HTTP/2 (libnghttp2): one connection, as a gRPC channel; windows of 2^30 - 1
// as h2load's. An answer counts as an error unless its status is 200 and, for
// gRPC, its grpc-status 0. The first second warms up and is not counted.
//
// Build: cc -O2 -o latency-probe latency-probe.c -lnghttp2
// Usage: latency-probe h1|h2 HOST PORT PATH RATE SECONDS BODY [-u] [-c N -m M] [-H 'name: value']...
//   BODY is a file; with -u, each request's body is the file with every
//   {nnnnnnnnnnnnnn} replaced by 16 digits unique to the request: the same
//   width, so the lengths inside a protobuf or gRPC body stay right. They
//   do not follow the requests' order (see body_for).
//   -c and -m (h2, RATE 0 only): connections, and requests in flight on each.
// Prints one JSON line: {"sent","rps","p50","p99","max","errors"}: times in ms,
// rps the answers that succeeded per second (what the server achieved).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define MAX_HEADERS 16
#define WARM_UP_NS 1000000000LL

static const char *host, *path;
static int port;
static char *body_text;
static size_t body_size;
static int unique_bodies;
static const char *header_names[MAX_HEADERS], *header_values[MAX_HEADERS];
static int header_count;

static long long total, sent, done, errors, counted;
static long long start_ns, rate_per_s;
static double *latencies_ms;
static long long latencies_room;
static char *finished;
static int epoll_fd;
// Closed loop: requests in flight per connection, and the measured window.
static int closed_loop, streams_per_connection = 16;
static long long window_start_ns, window_end_ns;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long due_ns(long long n) { return start_ns + n * 1000000000LL / rate_per_s; }

static void record(double ms, int ok) {
  if (counted == latencies_room) {
    latencies_room = latencies_room ? latencies_room * 2 : 65536;
    latencies_ms = realloc(latencies_ms, latencies_room * sizeof *latencies_ms);
  }
  latencies_ms[counted++] = ms;
  if (!ok) errors++;
}

static void finish(long long n, int ok) {
  if (finished[n]) return;
  finished[n] = 1;
  long long due = due_ns(n);
  if (due - start_ns >= WARM_UP_NS) record((now_ns() - due) / 1e6, ok);
  done++;
}

#define UNIQUE_MARK "{nnnnnnnnnnnnnn}"
#define UNIQUE_WIDTH 16

// Odd and not a multiple of 5, so n -> n * SCATTER mod 10^9 is one-to-one.
#define SCATTER 387420489ull

/**
 * The body of request n: the file, or with -u each mark replaced by n
 * scattered over nine digits, then the process id. Real emails and user ids
 * arrive in no order, so each lands on its own page of an index; numbered in
 * order they would share the last few pages.
 */
static size_t body_for(long long n, char *out, size_t room) {
  if (!unique_bodies) {
    memcpy(out, body_text, body_size);
    return body_size;
  }
  // Each run of the probe is a process of its own, and process ids stay under 2^22: seven digits.
  char id[UNIQUE_WIDTH + 1];
  snprintf(id, sizeof id, "%09llu%07u", (unsigned long long)n * SCATTER % 1000000000ull, (unsigned)getpid() % 10000000u);
  size_t len = 0;
  // Byte by byte over the whole file (a gRPC body begins with zero bytes); a mark's digits are as wide as it.
  for (size_t i = 0; i < body_size && len < room; i++) {
    if (i + UNIQUE_WIDTH <= body_size && memcmp(body_text + i, UNIQUE_MARK, UNIQUE_WIDTH) == 0) {
      memcpy(out + len, id, UNIQUE_WIDTH);
      len += UNIQUE_WIDTH;
      i += UNIQUE_WIDTH - 1;
    } else {
      out[len++] = body_text[i];
    }
  }
  return len;
}

static int connect_to_server(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &address.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

static void send_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return;  // The read side sees the closed connection.
    }
  }
}

// ---- HTTP/1.1 ----

struct h1_connection {
  int fd;
  long long request;  // -1 when idle
  char buffer[65536];
  size_t filled;
};
static struct h1_connection h1[MAX_CONNECTIONS];
static int h1_count = MAX_CONNECTIONS;
static long long h1_waiting_from;  // requests [h1_waiting_from, sent) wait for a connection

static void h1_send(struct h1_connection *c, long long n) {
  static char request[70000];
  char body[60000];
  size_t body_len = body_for(n, body, sizeof body);
  int len = snprintf(request, sizeof request, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %zu\r\n", path, host, port, body_len);
  for (int i = 0; i < header_count; i++) len += snprintf(request + len, sizeof request - len, "%s: %s\r\n", header_names[i], header_values[i]);
  len += snprintf(request + len, sizeof request - len, "\r\n");
  memcpy(request + len, body, body_len);
  c->request = n;
  c->filled = 0;
  send_all(c->fd, request, len + body_len);
}

/** Whether the buffer holds a whole response; sets its status. Knows Content-Length and chunked bodies. */
static int h1_complete(struct h1_connection *c, int *status) {
  c->buffer[c->filled] = 0;
  char *end = strstr(c->buffer, "\r\n\r\n");
  if (!end) return 0;
  *status = atoi(c->buffer + 9);
  char *body = end + 4;
  size_t have = c->filled - (body - c->buffer);
  char *length = strcasestr(c->buffer, "\r\ncontent-length:");
  if (length && length < end) return have >= (size_t)atol(length + 17);
  // Chunked: walk the chunk sizes to the last, empty one.
  for (char *p = body;;) {
    char *line_end = strstr(p, "\r\n");
    if (!line_end) return 0;
    long size = strtol(p, NULL, 16);
    if (size == 0) return strstr(line_end, "\r\n\r\n") == line_end;
    p = line_end + 2 + size + 2;
    if (p > c->buffer + c->filled) return 0;
  }
}

static void h1_dispatch(void) {
  for (int i = 0; i < h1_count && h1_waiting_from < sent; i++) {
    if (h1[i].request < 0) h1_send(&h1[i], h1_waiting_from++);
  }
}

static void h1_readable(struct h1_connection *c) {
  int status;
  for (;;) {
    size_t room = sizeof c->buffer - 1 - c->filled;
    ssize_t n = room > 0 ? recv(c->fd, c->buffer + c->filled, room, 0) : 0;
    if (n > 0) {
      c->filled += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    // Closed by the server (or an answer too large for the buffer): a whole answer still counts.
    if (c->request >= 0) finish(c->request, h1_complete(c, &status) && status == 200);
    c->request = -1;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = connect_to_server();
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = c});
    return;
  }
  if (c->request >= 0 && h1_complete(c, &status)) {
    finish(c->request, status == 200);
    c->request = -1;
  }
}

// ---- HTTP/2 ----

struct h2_connection {
  int fd, closed;
  nghttp2_session *session;
  int in_flight;
};
static struct h2_connection h2[MAX_CONNECTIONS];
static int h2_count = 1;

struct h2_stream {
  long long request, sent_ns;
  struct h2_connection *connection;
  int status, grpc, grpc_status;
  size_t body_len, body_sent;
  char body[];  // body_size bytes: a body with its marks replaced is as long as the file
};

static void h2_submit(struct h2_connection *c, long long n);

static ssize_t h2_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length, uint32_t *flags, nghttp2_data_source *source, void *user) {
  (void)s, (void)id, (void)user;
  struct h2_stream *stream = source->ptr;
  size_t n = stream->body_len - stream->body_sent;
  if (n > length) n = length;
  memcpy(buf, stream->body + stream->body_sent, n);
  stream->body_sent += n;
  if (stream->body_sent == stream->body_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

static int h2_on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags, void *user) {
  (void)flags, (void)user;
  struct h2_stream *stream = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
  if (!stream) return 0;
  if (name_len == 7 && memcmp(name, ":status", 7) == 0) stream->status = atoi((const char *)value);
  if (name_len == 12 && memcmp(name, "content-type", 12) == 0) stream->grpc = value_len >= 16 && memcmp(value, "application/grpc", 16) == 0;
  if (name_len == 11 && memcmp(name, "grpc-status", 11) == 0) stream->grpc_status = atoi((const char *)value);
  return 0;
}

/** Closed loop: counts an answer that came within the window, and sends the next request while the window lasts. */
static void closed_loop_finish(struct h2_stream *stream, int ok) {
  long long now = now_ns();
  if (now >= window_start_ns && now < window_end_ns) record((now - stream->sent_ns) / 1e6, ok);
  if (now < window_end_ns) h2_submit(stream->connection, sent++);
}

static int h2_on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user) {
  (void)user;
  struct h2_stream *stream = nghttp2_session_get_stream_user_data(s, id);
  if (!stream) return 0;
  int ok = error_code == 0 && stream->status == 200 && (!stream->grpc || stream->grpc_status == 0);
  stream->connection->in_flight--;
  if (closed_loop) closed_loop_finish(stream, ok);
  else finish(stream->request, ok);
  free(stream);
  return 0;
}

static void h2_start(struct h2_connection *c) {
  c->fd = connect_to_server();
  nghttp2_session_callbacks *callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, h2_on_header);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, h2_on_stream_close);
  nghttp2_session_client_new(&c->session, callbacks, c);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1U << 30) - 1}};
  nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 1);
  nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, (1 << 30) - 1);
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = c});
}

static void h2_submit(struct h2_connection *c, long long n) {
  if (c->closed) {
    if (!closed_loop) finish(n, 0);
    return;
  }
  struct h2_stream *stream = malloc(sizeof *stream + body_size);
  memset(stream, 0, sizeof *stream);
  stream->request = n;
  stream->sent_ns = now_ns();
  stream->connection = c;
  stream->grpc_status = -1;
  stream->body_len = body_for(n, stream->body, body_size);
  char authority[300];
  snprintf(authority, sizeof authority, "%s:%d", host, port);
  nghttp2_nv headers[MAX_HEADERS + 4];
  int count = 0;
#define HEADER(k, v) headers[count++] = (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE}
  HEADER(":method", "POST");
  HEADER(":scheme", "http");
  HEADER(":authority", authority);
  HEADER(":path", path);
  for (int i = 0; i < header_count; i++) HEADER(header_names[i], header_values[i]);
  nghttp2_data_provider provider = {.source.ptr = stream, .read_callback = h2_read_body};
  // Past the server's stream limit, nghttp2 holds the request back; its wait counts.
  if (nghttp2_submit_request(c->session, NULL, headers, count, &provider, stream) < 0) {
    if (!closed_loop) finish(n, 0);
    free(stream);
    return;
  }
  c->in_flight++;
}

static void h2_readable(struct h2_connection *c) {
  uint8_t buffer[65536];
  for (;;) {
    ssize_t n = recv(c->fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      if (nghttp2_session_mem_recv(c->session, buffer, n) < 0) n = 0;
      else continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // The connection ended: every request sent and not answered failed, and so will every later one.
    fprintf(stderr, "connection closed with %d requests open\n", c->in_flight);
    if (closed_loop)
      for (int i = 0; i < c->in_flight; i++) record(0, 0);
    else
      for (long long n = 0; n < sent; n++) finish(n, 0);
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    c->closed = 1;
    return;
  }
}

/** What each session has to send, in one write per connection as h2load does: a write per frame costs the server reads. */
static void h2_send_all(void) {
  static uint8_t out[1 << 20];
  for (int i = 0; i < h2_count; i++) {
    if (h2[i].closed) continue;
    size_t len = 0;
    const uint8_t *data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(h2[i].session, &data)) > 0) {
      if (len + n > sizeof out) {
        send_all(h2[i].fd, (const char *)out, len);
        len = 0;
      }
      if ((size_t)n > sizeof out) {
        send_all(h2[i].fd, (const char *)data, n);
        continue;
      }
      memcpy(out + len, data, n);
      len += n;
    }
    send_all(h2[i].fd, (const char *)out, len);
  }
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s h1|h2 HOST PORT PATH RATE SECONDS BODY [-u] [-c N -m M] [-H 'name: value']...\n", argv[0]);
    return 2;
  }
  int http2 = strcmp(argv[1], "h2") == 0;
  host = argv[2];
  port = atoi(argv[3]);
  path = argv[4];
  rate_per_s = atoll(argv[5]);
  long long seconds = atoll(argv[6]);
  closed_loop = rate_per_s == 0;
  FILE *file = fopen(argv[7], "rb");
  if (!file || rate_per_s < 0 || (closed_loop && !http2)) {
    fprintf(stderr, "cannot read %s, or no rate (a closed loop, RATE 0, is for h2 only)\n", argv[7]);
    return 2;
  }
  body_text = calloc(1, 60000);
  body_size = fread(body_text, 1, 59999, file);
  fclose(file);
  for (int i = 8; i < argc; i++) {
    if (strcmp(argv[i], "-u") == 0) unique_bodies = 1;
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) h2_count = atoi(argv[++i]);
    if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) streams_per_connection = atoi(argv[++i]);
    if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && header_count < MAX_HEADERS) {
      char *header = strdup(argv[++i]), *colon = strchr(header, ':');
      if (!colon) continue;
      *colon = 0;
      header_names[header_count] = header;
      header_values[header_count++] = colon + 1 + strspn(colon + 1, " ");
    }
  }
  if (h2_count < 1 || h2_count > MAX_CONNECTIONS || (!closed_loop && h2_count != 1) || streams_per_connection < 1) {
    fprintf(stderr, "-c is 1 to %d, and more than 1 only in a closed loop; -m at least 1\n", MAX_CONNECTIONS);
    return 2;
  }

  epoll_fd = epoll_create1(0);
  if (http2) {
    for (int i = 0; i < h2_count; i++) h2_start(&h2[i]);
  } else {
    for (int i = 0; i < h1_count; i++) {
      h1[i].fd = connect_to_server();
      h1[i].request = -1;
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, h1[i].fd, &(struct epoll_event){.events = EPOLLIN, .data.ptr = &h1[i]});
    }
  }
  start_ns = now_ns();
  struct epoll_event events[MAX_CONNECTIONS];
  if (closed_loop) {
    window_start_ns = start_ns + WARM_UP_NS;
    window_end_ns = window_start_ns + seconds * 1000000000LL;
    for (int i = 0; i < h2_count; i++)
      for (int m = 0; m < streams_per_connection; m++) h2_submit(&h2[i], sent++);
    for (long long now = start_ns; now < window_end_ns; now = now_ns()) {
      h2_send_all();
      long long wait = window_end_ns - now;
      struct timespec timeout = {.tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL};
      int ready = epoll_pwait2(epoll_fd, events, MAX_CONNECTIONS, &timeout, NULL);
      for (int i = 0; i < ready; i++) h2_readable(events[i].data.ptr);
    }
  } else {
    total = rate_per_s * (seconds + WARM_UP_NS / 1000000000LL);
    finished = calloc(total, 1);
    long long give_up = due_ns(total) + 10 * 1000000000LL;
    while (done < total && now_ns() < give_up) {
      long long now = now_ns();
      while (sent < total && due_ns(sent) <= now) {
        if (http2) h2_submit(&h2[0], sent);
        sent++;
      }
      if (http2) h2_send_all();
      else h1_dispatch();
      // Sleep until the next request is due or an answer arrives.
      long long wait = sent < total ? due_ns(sent) - now_ns() : 100000000LL;
      struct timespec timeout = {.tv_sec = wait > 0 ? wait / 1000000000LL : 0, .tv_nsec = wait > 0 ? wait % 1000000000LL : 0};
      int ready = epoll_pwait2(epoll_fd, events, MAX_CONNECTIONS, &timeout, NULL);
      for (int i = 0; i < ready; i++) {
        if (http2) h2_readable(events[i].data.ptr);
        else h1_readable(events[i].data.ptr);
      }
    }
    // Requests never answered count as errors, with the latency of when the probe gave up.
    for (long long n = 0; n < total; n++) finish(n, 0);
  }
  qsort(latencies_ms, counted, sizeof *latencies_ms, compare);
  double p50 = counted ? latencies_ms[counted * 50 / 100] : 0, p99 = counted ? latencies_ms[counted * 99 / 100] : 0, max = counted ? latencies_ms[counted - 1] : 0;
  // rps counts answers that succeeded: what the server achieved, not the rate offered.
  printf("{\"sent\":%lld,\"rps\":%.1f,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f,\"errors\":%lld}\n", counted, (double)(counted - errors) / seconds, p50, p99, max, errors);
  return 0;
}
