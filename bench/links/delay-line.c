// Delay line for emulated links: holds every IPv4 packet a viewer namespace receives for that
// viewer's one-way delay, then lets it through. The kernel here has no netem, so packets reach
// this process through NFQUEUE (`iptables -t mangle -A PREROUTING -i eth0 -j NFQUEUE`): only the
// first bytes of each packet are copied up, the packet itself waits in the kernel until its
// verdict. One process serves every viewer: it enters each namespace once to open that
// namespace's queue socket, which stays bound to it.
//
//   delay-line <cdn-ipv4> <netns>,<cdn-delay-us>,<peer-delay-us> ...
//
// Packets from <cdn-ipv4> wait <cdn-delay-us>, all others <peer-delay-us>. Each class is a FIFO
// with one constant delay, so packets of one flow (one source) leave in the order they came.
// Prints "ready" once every queue is bound; a line "stats" on stdin prints counters as JSON;
// end of stdin (the parent died or closed it) ends the process.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_NUM 0
#define QUEUE_MAXLEN 65536
#define COPY_RANGE 20 /* the IPv4 header: the source address is all we read */
#define RCVBUF (16 * 1024 * 1024)

struct held {
  uint64_t due_ns;
  uint32_t id;
};

/* A FIFO of held packets sharing one delay. */
struct fifo {
  struct held *items;
  size_t head, len, cap;
};

struct link {
  const char *netns;
  int fd;
  uint64_t delay_ns[2]; /* [0] from the CDN address, [1] from anyone else */
  struct fifo fifo[2];
};

static struct link *links;
static int link_count;
static uint32_t cdn_address;
static uint64_t packets, late_total_ns, late_max_ns, send_errors, overruns;

static void die(const char *what) {
  fprintf(stderr, "delay-line: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fifo_push(struct fifo *f, struct held h) {
  if (f->len == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 1024;
    struct held *items = malloc(cap * sizeof *items);
    if (!items) die("malloc");
    for (size_t i = 0; i < f->len; i++) items[i] = f->items[(f->head + i) % f->cap];
    free(f->items);
    f->items = items;
    f->head = 0;
    f->cap = cap;
  }
  f->items[(f->head + f->len) % f->cap] = h;
  f->len++;
}

static struct held *fifo_front(struct fifo *f) { return f->len ? &f->items[f->head] : NULL; }

static void fifo_pop(struct fifo *f) {
  f->head = (f->head + 1) % f->cap;
  f->len--;
}

/* Appends a netlink attribute to buf at *off. */
static void put_attr(char *buf, size_t *off, uint16_t type, const void *data, uint16_t len) {
  struct nlattr *a = (struct nlattr *)(buf + *off);
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(buf + *off + NLA_HDRLEN, data, len);
  *off += NLA_ALIGN(a->nla_len);
}

/* Starts a nfnetlink queue message of `type` in buf; returns the offset after its headers. */
static size_t begin_msg(char *buf, uint16_t type, uint16_t flags) {
  struct nlmsghdr *n = (struct nlmsghdr *)buf;
  memset(buf, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
  n->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
  n->nlmsg_flags = NLM_F_REQUEST | flags;
  struct nfgenmsg *g = NLMSG_DATA(n);
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons(QUEUE_NUM);
  return NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
}

static void send_all(int fd, const char *buf, size_t len) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) send_errors++;
}

/* Opens and binds queue QUEUE_NUM in the namespace this thread is in; waits for the ack. */
static int bind_queue(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) die("socket");
  int size = RCVBUF, one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");

  char buf[256];
  size_t off = begin_msg(buf, NFQNL_MSG_CONFIG, NLM_F_ACK);
  struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
  put_attr(buf, &off, NFQA_CFG_CMD, &cmd, sizeof cmd);
  struct nfqnl_msg_config_params params = {.copy_range = htonl(COPY_RANGE), .copy_mode = NFQNL_COPY_PACKET};
  put_attr(buf, &off, NFQA_CFG_PARAMS, &params, sizeof params);
  uint32_t maxlen = htonl(QUEUE_MAXLEN);
  put_attr(buf, &off, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
  /* GSO: a large packet is held whole instead of being cut into segments for the queue. */
  uint32_t flags = htonl(NFQA_CFG_F_GSO), mask = htonl(NFQA_CFG_F_GSO);
  put_attr(buf, &off, NFQA_CFG_FLAGS, &flags, sizeof flags);
  put_attr(buf, &off, NFQA_CFG_MASK, &mask, sizeof mask);
  ((struct nlmsghdr *)buf)->nlmsg_len = off;
  send_all(fd, buf, off);

  char reply[4096];
  ssize_t n = recv(fd, reply, sizeof reply, 0);
  if (n < 0) die("recv ack");
  struct nlmsghdr *h = (struct nlmsghdr *)reply;
  if (h->nlmsg_type == NLMSG_ERROR) {
    struct nlmsgerr *e = NLMSG_DATA(h);
    if (e->error) {
      errno = -e->error;
      die("bind queue");
    }
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

/* Reads every queued packet notice waiting on the link's socket and files it in its FIFO. */
static void receive(struct link *l, uint64_t now) {
  static char buf[65536];
  for (;;) {
    ssize_t n = recv(l->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {
        overruns++;
        continue;
      }
      return;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if ((h->nlmsg_type & 0xff) != NFQNL_MSG_PACKET || (h->nlmsg_type >> 8) != NFNL_SUBSYS_QUEUE) continue;
      char *attrs = (char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
      int left = (int)h->nlmsg_len - (int)(attrs - (char *)h);
      uint32_t id = 0, source = 0;
      int have_id = 0;
      while (left >= NLA_HDRLEN) {
        struct nlattr *a = (struct nlattr *)attrs;
        if (a->nla_len < NLA_HDRLEN || a->nla_len > left) break;
        void *data = attrs + NLA_HDRLEN;
        switch (a->nla_type & NLA_TYPE_MASK) {
          case NFQA_PACKET_HDR:
            id = ntohl(((struct nfqnl_msg_packet_hdr *)data)->packet_id);
            have_id = 1;
            break;
          case NFQA_PAYLOAD:
            if (a->nla_len - NLA_HDRLEN >= 20) memcpy(&source, (char *)data + 12, 4);
            break;
        }
        left -= NLA_ALIGN(a->nla_len);
        attrs += NLA_ALIGN(a->nla_len);
      }
      if (!have_id) continue;
      int class = source == cdn_address ? 0 : 1;
      fifo_push(&l->fifo[class], (struct held){now + l->delay_ns[class], id});
      packets++;
    }
  }
}

/* Accepts every packet of the link whose time has come, all verdicts in one send. */
static void release(struct link *l, uint64_t now) {
  static char buf[65536];
  size_t used = 0;
  for (int c = 0; c < 2; c++) {
    struct held *h;
    while ((h = fifo_front(&l->fifo[c])) && h->due_ns <= now) {
      if (used + 64 > sizeof buf) {
        send_all(l->fd, buf, used);
        used = 0;
      }
      size_t off = begin_msg(buf + used, NFQNL_MSG_VERDICT, 0);
      struct nfqnl_msg_verdict_hdr v = {.verdict = htonl(NF_ACCEPT), .id = htonl(h->id)};
      put_attr(buf + used, &off, NFQA_VERDICT_HDR, &v, sizeof v);
      ((struct nlmsghdr *)(buf + used))->nlmsg_len = off;
      used += NLMSG_ALIGN(off);
      uint64_t late = now - h->due_ns;
      late_total_ns += late;
      if (late > late_max_ns) late_max_ns = late;
      fifo_pop(&l->fifo[c]);
    }
  }
  if (used) send_all(l->fd, buf, used);
}

static void print_stats(void) {
  uint64_t held = 0;
  for (int i = 0; i < link_count; i++) held += links[i].fifo[0].len + links[i].fifo[1].len;
  uint64_t released = packets - held;
  printf("{\"packets\":%llu,\"held\":%llu,\"meanLateUs\":%.1f,\"maxLateUs\":%.1f,\"sendErrors\":%llu,\"overruns\":%llu}\n",
         (unsigned long long)packets, (unsigned long long)held,
         released ? late_total_ns / 1e3 / (double)released : 0.0, late_max_ns / 1e3,
         (unsigned long long)send_errors, (unsigned long long)overruns);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3 || inet_pton(AF_INET, argv[1], &cdn_address) != 1) {
    fprintf(stderr, "usage: delay-line <cdn-ipv4> <netns>,<cdn-delay-us>,<peer-delay-us> ...\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The delay is the wire: on a loaded machine a normal-priority process would add its own
     scheduling delay to every packet. A real-time priority keeps it to microseconds; the
     process sleeps between packets, so it takes little from anyone. */
  struct sched_param priority = {.sched_priority = 10};
  sched_setscheduler(0, SCHED_FIFO, &priority);
  signal(SIGPIPE, SIG_IGN);
  link_count = argc - 2;
  links = calloc(link_count, sizeof *links);
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("open own namespace");
  for (int i = 0; i < link_count; i++) {
    char name[256];
    long long cdn_us, peer_us;
    if (sscanf(argv[i + 2], "%255[^,],%lld,%lld", name, &cdn_us, &peer_us) != 3) {
      fprintf(stderr, "delay-line: bad link \"%s\"\n", argv[i + 2]);
      return 2;
    }
    links[i].netns = strdup(name);
    links[i].delay_ns[0] = (uint64_t)cdn_us * 1000;
    links[i].delay_ns[1] = (uint64_t)peer_us * 1000;
    char path[300];
    snprintf(path, sizeof path, "/var/run/netns/%s", name);
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) die(path);
    close(ns);
    links[i].fd = bind_queue();
    if (setns(home, CLONE_NEWNET) < 0) die("return to own namespace");
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = UINT32_MAX;
  epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);
  ev.data.u32 = UINT32_MAX - 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
  for (int i = 0; i < link_count; i++) {
    ev.data.u32 = (uint32_t)i;
    epoll_ctl(ep, EPOLL_CTL_ADD, links[i].fd, &ev);
  }
  printf("ready\n");
  fflush(stdout);

  struct epoll_event events[64];
  char line[256];
  size_t line_len = 0;
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    uint64_t now = now_ns();
    for (int e = 0; e < n; e++) {
      uint32_t tag = events[e].data.u32;
      if (tag == UINT32_MAX) {
        uint64_t expirations;
        if (read(timer, &expirations, sizeof expirations) < 0) { /* spurious */ }
      } else if (tag == UINT32_MAX - 1) {
        ssize_t got = read(STDIN_FILENO, line + line_len, sizeof line - line_len - 1);
        if (got <= 0) return 0;
        line_len += (size_t)got;
        char *newline;
        while ((newline = memchr(line, '\n', line_len))) {
          if (newline - line == 5 && memcmp(line, "stats", 5) == 0) print_stats();
          size_t consumed = (size_t)(newline - line) + 1;
          memmove(line, newline + 1, line_len - consumed);
          line_len -= consumed;
        }
        if (line_len == sizeof line - 1) line_len = 0;
      } else {
        receive(&links[tag], now);
      }
    }
    now = now_ns();
    uint64_t next = 0;
    for (int i = 0; i < link_count; i++) {
      release(&links[i], now);
      for (int c = 0; c < 2; c++) {
        struct held *h = fifo_front(&links[i].fifo[c]);
        if (h && (!next || h->due_ns < next)) next = h->due_ns;
      }
    }
    /* Zero disarms the timer: nothing is held. */
    struct itimerspec at = {0};
    at.it_value.tv_sec = (time_t)(next / 1000000000ull);
    at.it_value.tv_nsec = (long)(next % 1000000000ull);
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &at, NULL);
  }
}
