/*
 * paths.h - where the daemons put their sockets and state by default, in one place for the
 * daemons and fabricctl (the units' RuntimeDirectory=l2fabric and StateDirectory=l2fabric
 * are these directories).
 */
#ifndef L2_PATHS_H
#define L2_PATHS_H

#define L2F_RUN_DIR "/run/l2fabric"
#define L2F_STATE_DIR "/var/lib/l2fabric"

#define VIPD_SOCKET L2F_RUN_DIR "/vipd.sock"
#define VTEPD_SOCKET L2F_RUN_DIR "/vtepd.sock"
#define FABRICD_SOCKET L2F_RUN_DIR "/fabricd.sock"
#define SWITCHD_SOCKET L2F_RUN_DIR "/switchd.sock"
#define FABRICD_STORE L2F_STATE_DIR "/fabricd.journal"

#endif
