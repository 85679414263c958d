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

/* The kernel's TCP states (include/net/tcp_states.h, a fixed ABI): only <netinet/tcp.h> names them,
   and it clashes with <linux/tcp.h>, whose struct tcp_info has tcpi_bytes_acked. */
enum { CPOSIX_TCP_CLOSE = 7, CPOSIX_TCP_CLOSE_WAIT = 8, CPOSIX_TCP_LAST_ACK = 9, CPOSIX_TCP_CLOSING = 11 };

int cposix_socket_send_progress(int fd, struct cposix_send_progress *progress) {
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) != 0) return -1;
    progress->acknowledged = info.tcpi_bytes_acked;
    progress->queued = queued > 0 ? (uint64_t)queued : 0;
    progress->peer_closed = info.tcpi_state == CPOSIX_TCP_CLOSE_WAIT || info.tcpi_state == CPOSIX_TCP_LAST_ACK
                            || info.tcpi_state == CPOSIX_TCP_CLOSING;
    progress->gone = info.tcpi_state == CPOSIX_TCP_CLOSE;
    return 0;
}
