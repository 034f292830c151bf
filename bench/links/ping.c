// ICMP echo round trips from the namespace this runs in.
//
//   ping <count> <address> [<address> ...]
//
// Prints one JSON object: address -> list of round trips in ms. The target's kernel answers
// the echo, so no process of the target is in the figure; this one runs at a real-time
// priority, so its own wake-up on a loaded machine is not either. (The kernel's receive
// timestamp cannot be used: it is taken when the packet reaches the interface, before the
// delay line holds it.) Needs a raw socket (root). Targets are pinged in turn, one echo
// outstanding at a time; a lost echo (no answer within 1 s) is left out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint16_t checksum(const void *data, size_t len) {
  const uint16_t *words = data;
  uint32_t sum = 0;
  for (; len > 1; len -= 2) sum += *words++;
  if (len) sum += *(const uint8_t *)words;
  sum = (sum >> 16) + (sum & 0xffff);
  sum += sum >> 16;
  return (uint16_t)~sum;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ping <count> <address> ...\n");
    return 2;
  }
  int count = atoi(argv[1]);
  int targets = argc - 2;
  struct sched_param priority = {.sched_priority = 5};
  sched_setscheduler(0, SCHED_FIFO, &priority);
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    perror("ping: raw socket");
    return 1;
  }
  double *rtts = calloc((size_t)count * targets, sizeof *rtts);
  int *got = calloc(targets, sizeof *got);
  uint16_t ident = (uint16_t)getpid(), seq = 0;
  for (int round = 0; round < count; round++) {
    for (int t = 0; t < targets; t++) {
      struct sockaddr_in to = {.sin_family = AF_INET};
      if (inet_pton(AF_INET, argv[t + 2], &to.sin_addr) != 1) {
        fprintf(stderr, "ping: bad address %s\n", argv[t + 2]);
        return 2;
      }
      struct {
        struct icmphdr header;
        char payload[16];
      } echo = {0};
      echo.header.type = ICMP_ECHO;
      echo.header.un.echo.id = htons(ident);
      echo.header.un.echo.sequence = htons(++seq);
      memcpy(echo.payload, "swarmcast-links", 16);
      echo.header.checksum = checksum(&echo, sizeof echo);
      double sent = now_ms();
      sendto(fd, &echo, sizeof echo, 0, (struct sockaddr *)&to, sizeof to);
      for (;;) {
        int left = (int)(sent + 1000 - now_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) break;
        char buf[2048];
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        double at = now_ms();
        if (n < (ssize_t)sizeof(struct iphdr)) continue;
        size_t ihl = (size_t)(((struct iphdr *)buf)->ihl) * 4;
        if ((size_t)n < ihl + sizeof(struct icmphdr)) continue;
        struct icmphdr *reply = (struct icmphdr *)(buf + ihl);
        if (reply->type != ICMP_ECHOREPLY || ntohs(reply->un.echo.id) != ident ||
            ntohs(reply->un.echo.sequence) != seq || from.sin_addr.s_addr != to.sin_addr.s_addr)
          continue;
        rtts[t * count + got[t]++] = at - sent;
        break;
      }
      usleep(10000);
    }
  }
  printf("{");
  for (int t = 0; t < targets; t++) {
    printf("%s\"%s\":[", t ? "," : "", argv[t + 2]);
    for (int k = 0; k < got[t]; k++) printf("%s%.3f", k ? "," : "", rtts[t * count + k]);
    printf("]");
  }
  printf("}\n");
  return 0;
}
