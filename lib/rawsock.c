/* rawsock.c - packet sockets for control frames (see rawsock.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "rawsock.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

int rawsock_open(int ifindex, const struct sock_filter *filter, size_t nfilter)
{
	return rawsock_open_proto(ifindex, ETH_P_ALL, filter, nfilter);
}

int rawsock_open_proto(int ifindex, uint16_t ethertype, const struct sock_filter *filter,
		       size_t nfilter)
{
	struct sock_fprog prog = { .len = (unsigned short)nfilter,
				   .filter = (struct sock_filter *)filter };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype),
				   .sll_ifindex = ifindex };
	int one = 1, err, fd;

	/* Protocol 0: nothing is queued until the filter is in place and we bind. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((nfilter && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int rawsock_send(int fd, int ifindex, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				   .sll_halen = MAC_LEN };

	memcpy(sll.sll_addr, frame, MAC_LEN);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

int rawsock_set_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

int rawsock_queue_drops(int fd, uint64_t *drops)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -errno;
	*drops = st.tp_drops;
	return 0;
}
