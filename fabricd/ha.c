/*
 * ha.c - HA router ports' masters. vipd (role ROLE_VIPD) reports the host that now holds an
 * HA port in track mode (Master), on every takeover and after each (re)connect; fabricctl's
 * `port master` does the same through the API. Every agent of the segment then reaches the
 * port at its master (update.c). Over TLS, a vipd (certificate urn:l2fabric:vipd:HOST) may
 * name only its own HOST as a master.
 */
#include <errno.h>
#include <string.h>
#include "fabricd.h"
#include "log.h"

int ha_master_change(struct fabricd *fd, const L2f__Master *m, const char **why)
{
	struct binding *b = dir_find(&fd->dir, m->vni, m->mac.data);
	int h = dir_host_find(&fd->dir, m->host), ret;

	if (!b || !(b->flags & B_API)) {
		*why = "no such port";
		return -ENOENT;
	}
	if (h < 0) {
		*why = "unknown host";
		return -ENOENT;
	}
	ret = dir_set_master(&fd->dir, b, (uint16_t)h);
	if (ret < 0) {
		*why = "not an HA port of that host";
		return ret;
	}
	if (ret == 0) {
		log_info("vni %u HA port %s: master now %s", b->vni, b->name ? b->name : "-",
			 fd->dir.hosts[h].id);
		update_binding(fd, b);
	}
	return 0;
}

/* Over TLS one session per vipd identity: the newest replaces the older (a vipd that
 * restarted before its old session timed out), so that one certificate cannot fill the
 * session table. */
static void ha_hello(struct session *s, const L2f__Hello *hello)
{
	s->state = SESS_UP;
	if (!wire_ident(s->w))
		return;
	for (struct session *o = s->fd->sessions; o; o = o->next) {
		if (o != s && !o->closed && o->role == &ha_role && wire_ident(o->w) &&
		    strcmp(wire_ident(o->w)->id, hello->id) == 0)
			wire_close(o->w, "replaced by a new session");
	}
}

static void ha_msg(struct session *s, const L2f__Envelope *env)
{
	const struct wire_ident *id = wire_ident(s->w);
	const char *why = NULL;

	if (env->msg_case != L2F__ENVELOPE__MSG_MASTER) {
		fabricd_refuse(s->fd, REFUSE_UNEXPECTED, "%s: a message vipd does not send: closed",
			       wire_name(s->w));
		wire_close(s->w, "unexpected message for this role");
		return;
	}
	/* over TLS a vipd speaks for the host its certificate names, and for no other */
	if (id && strcmp(env->master->host, id->id) != 0) {
		fabricd_refuse(s->fd, REFUSE_MASTER_HOST, "%s: reported %s as a master, but its "
			       "certificate is vipd %s: refused", wire_name(s->w),
			       env->master->host, id->id);
		return;
	}
	if (ha_master_change(s->fd, env->master, &why) < 0)
		log_warn("%s: master report refused: %s", wire_name(s->w), why);
}

/* vipd sends small Master messages and gets nothing back. */
const struct role ha_role = {
	.role = L2F__ROLE__ROLE_VIPD,
	.name = "vipd",
	.max_frame = 64u << 10,
	.out_hwm = 1u << 20,
	.stuck_ms = 10000,
	.on_hello = ha_hello,
	.on_msg = ha_msg,
};
