/* Socket state Swift's Glibc module cannot reach: POLLRDHUP, TCP_INFO, SIOCOUTQ (see CPOSIXShim.h). */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int cposix_peer_closed(int fd) {
    struct pollfd entry = {.fd = fd, .events = POLLRDHUP, .revents = 0};
    if (poll(&entry, 1, 0) != 1) return 0;
    return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

int cposix_socket_send_progress(int fd, uint64_t *acknowledged, int *queued) {
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    *acknowledged = info.tcpi_bytes_acked;
    return ioctl(fd, SIOCOUTQ, queued);
}
